package segment

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Span is one sentence: text[Start:End] == Text. Spans never begin or end
// with whitespace, and only whitespace lies between consecutive spans.
type Span struct {
	Start int
	End   int
	Text  string
}

// Split splits text into sentences for lang ("de" or "en"; anything else is
// treated like "en"). Text without final punctuation, such as a headline, is
// one span. Whitespace-only text yields no spans.
func Split(lang, text string) []Span {
	r := newRules(lang)
	quoted := quotedRegions(r, text)
	var spans []Span
	start := -1
	for i := 0; i < len(text); {
		c, size := utf8.DecodeRuneInString(text[i:])
		if start < 0 {
			if unicode.IsSpace(c) {
				i += size
				continue
			}
			start = i
		}
		switch {
		case c == '\n':
			if next, ok := r.lineBreak(text, start, i); ok {
				spans = appendSpan(spans, text, start, i)
				start = -1
				i = next
				continue
			}
		case isTerminator(c):
			end, skip := r.sentenceEnd(text, i, quoted)
			if end > 0 {
				spans = appendSpan(spans, text, start, end)
				start = -1
				i = end
				continue
			}
			i = skip
			continue
		}
		i += size
	}
	if start >= 0 {
		spans = appendSpan(spans, text, start, len(text))
	}
	return spans
}

// Texts is Split returning only the sentences.
func Texts(lang, text string) []string {
	spans := Split(lang, text)
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Text
	}
	return out
}

func appendSpan(spans []Span, text string, start, end int) []Span {
	s := strings.TrimRightFunc(text[start:end], unicode.IsSpace)
	if s == "" {
		return spans
	}
	return append(spans, Span{Start: start, End: start + len(s), Text: s})
}

func isTerminator(c rune) bool {
	return c == '.' || c == '!' || c == '?' || c == '…'
}

// sentenceEnd decides whether the terminator at i ends a sentence. It
// returns the byte offset just past the sentence (after trailing closing
// marks), or 0 and the offset past the run of terminators when the sentence
// goes on.
func (r *rules) sentenceEnd(text string, i int, quoted []region) (end, skip int) {
	term, _ := utf8.DecodeRuneInString(text[i:])
	// Consume the run of terminators ("?!", "...") and closing marks.
	j := i
	dots := 0
	skip = i
	for j < len(text) {
		c, size := utf8.DecodeRuneInString(text[j:])
		if c == '.' {
			dots++
		}
		if isTerminator(c) {
			j += size
			skip = j
			continue
		}
		if !isCloser(text, j) {
			break
		}
		j += size
	}
	ellipsis := dots >= 3 || strings.ContainsRune(text[i:j], '…')
	// A sentence ends only before whitespace (or the end of the text).
	if j == len(text) {
		return j, skip
	}
	c, _ := utf8.DecodeRuneInString(text[j:])
	if !unicode.IsSpace(c) {
		return 0, skip
	}
	k := j
	for k < len(text) {
		c, size := utf8.DecodeRuneInString(text[k:])
		if !unicode.IsSpace(c) {
			break
		}
		k += size
	}
	if k == len(text) {
		return j, skip
	}
	next, _ := utf8.DecodeRuneInString(text[k:])
	// Never start a sentence with a closing mark, a lowercase word or
	// punctuation that continues the previous one.
	if isCloser(text, k) || unicode.IsLower(next) || strings.ContainsRune(",;:)]–-", next) {
		return 0, skip
	}
	if inRegion(quoted, i) {
		return 0, skip
	}
	if term == '.' && !ellipsis && dots == 1 {
		if !r.periodEnds(text, i, k) {
			return 0, skip
		}
	}
	return j, skip
}

// periodEnds looks at the word before the period at i and the word starting
// at k to tell a full stop from an abbreviation or ordinal.
func (r *rules) periodEnds(text string, i, k int) bool {
	w := i
	for w > 0 {
		c, size := utf8.DecodeLastRuneInString(text[:w])
		if unicode.IsSpace(c) || strings.ContainsRune("([„“\"»«‚'", c) {
			break
		}
		w -= size
	}
	word := text[w:i]
	if word == "" {
		return true
	}
	key := strings.ToLower(strings.ReplaceAll(word, ".", ""))
	if _, ok := r.finalAbbrev[key]; ok {
		return true // "usw." may end a sentence before a capital
	}
	if _, ok := r.abbrev[key]; ok {
		return false
	}
	if utf8.RuneCountInString(word) == 1 && unicode.IsLetter([]rune(word)[0]) {
		return false // initials, and the parts of "z. B.", "u. a."
	}
	if strings.Count(word, ".") > 0 && isLetters(strings.ReplaceAll(word, ".", "")) && utf8.RuneCountInString(key) <= 4 {
		return false // "U.S.", "e.g.", "z.B."
	}
	if isDigits(word) {
		return r.numberEnds(word, nextWord(text, k))
	}
	return true
}

func (r *rules) numberEnds(num, next string) bool {
	if !r.ordinals {
		return true
	}
	if _, ok := months[strings.ToLower(next)]; ok {
		return false
	}
	if len(num) > 3 {
		return true // a year
	}
	_, starter := sentenceStarters[next]
	return starter || next == "" || !isLetters(next)
}

func nextWord(text string, k int) string {
	e := k
	for e < len(text) {
		c, size := utf8.DecodeRuneInString(text[e:])
		if !unicode.IsLetter(c) {
			break
		}
		e += size
	}
	return text[k:e]
}

// lineBreak treats a blank line, or a line without final punctuation
// followed by a capitalised line (a headline), as a sentence boundary. It
// returns where the next sentence may start.
func (r *rules) lineBreak(text string, start, i int) (int, bool) {
	k := i
	newlines := 0
	for k < len(text) {
		c, size := utf8.DecodeRuneInString(text[k:])
		if !unicode.IsSpace(c) {
			break
		}
		if c == '\n' {
			newlines++
		}
		k += size
	}
	if k == len(text) {
		return k, true
	}
	if newlines >= 2 {
		return k, true
	}
	before := strings.TrimRightFunc(text[start:i], unicode.IsSpace)
	last, _ := utf8.DecodeLastRuneInString(before)
	next, _ := utf8.DecodeRuneInString(text[k:])
	if strings.ContainsRune(",;:-–(", last) || unicode.IsLower(next) {
		return 0, false
	}
	return k, true
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func isLetters(s string) bool {
	for _, c := range s {
		if !unicode.IsLetter(c) {
			return false
		}
	}
	return s != ""
}
