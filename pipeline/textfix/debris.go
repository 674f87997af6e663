package textfix

import (
	"bytes"
	"fmt"
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dewire/dewire/pipeline/article"
)

// maxDebrisDigits bounds the page numbers and counters we treat as debris.
const maxDebrisDigits = 6

// maxDebrisTail bounds, in bytes, the page furniture looked for at the end
// of a paragraph (a credit, a teaser, a share bar); a longer tail is prose.
const maxDebrisTail = 160

// fixDebris removes page furniture picked up in extraction: a paragraph that
// is only a photo credit, a teaser ("Lesen Sie auch: …"), an advertising
// marker, a share bar or a page number, the same glued to the end of a
// sentence, and digits glued to a paragraph's final punctuation
// ("Informationen.2477"). What might be content is flagged instead.
func (f *Fixer) fixDebris(s string, _, observed *[]article.Flag) []repl {
	if r, ok := debrisTail(s, observed); ok {
		return []repl{r}
	}
	return f.fixGluedDigits(s, observed)
}

// debrisKind is what a piece of page furniture is.
type debrisKind uint8

const (
	notDebris debrisKind = iota
	isDebris
	maybeDebris // could be content: flagged
)

// debrisTail finds page furniture that makes up the whole paragraph or its
// end after a sentence: the earliest start whose whole tail is furniture.
func debrisTail(s string, observed *[]article.Flag) (repl, bool) {
	end := len(s)
	for end > 0 && (s[end-1] == ' ' || s[end-1] == '\t') {
		end--
	}
	if end == 0 {
		return repl{}, false
	}
	for k, start := debrisStart(s, end, max(0, end-maxDebrisTail)); k < end; k, start = debrisStart(s, end, k+1) {
		tail := s[k:end]
		if !debrisOpening(tail) {
			continue
		}
		switch kind, what := classifyDebris(tail, k == 0); kind {
		case isDebris:
			return repl{start: start, end: len(s), text: "", rule: RuleDebris}, true
		case maybeDebris:
			*observed = append(*observed, article.Flag{
				Code:       FlagDebrisSuspect,
				Message:    fmt.Sprintf("%q at the end of the paragraph looks like %s; delete it if it is not part of the text", tail, what),
				Offset:     k,
				Suggestion: strings.TrimRight(s[:start], " "),
			})
			return repl{}, false
		}
	}
	return repl{}, false
}

// debrisStart returns the first k in [from, end) where page furniture may
// begin: the start of the text, or a word after the end of a sentence and a
// space; and where the furniture's removal would start (the space goes with
// it). It returns end when there is none.
func debrisStart(s string, end, from int) (k, start int) {
	if from == 0 && end > 0 {
		return 0, 0
	}
	k = max(from, 2)
	for k < end {
		if j := k - 2; j+9 <= len(s) {
			// Eight candidates at a time: lanes where s[j…] holds a byte that
			// may end a sentence and the next byte is a space (zeroLanes may
			// flag more; each is checked).
			x, y := load64(s, j), load64(s, j+1)
			m := x&0x8080808080808080 | zeroLanes(x^0x2E2E2E2E2E2E2E2E) | zeroLanes(x^0x2121212121212121) |
				zeroLanes(x^0x3F3F3F3F3F3F3F3F) | zeroLanes(x^0x2929292929292929) | zeroLanes(x^0x2222222222222222)
			for m &= zeroLanes(y ^ 0x2020202020202020); m != 0; m &= m - 1 {
				c := j + bits.TrailingZeros64(m)/8 + 2
				if c >= end {
					return end, end
				}
				if s[c-1] == ' ' && s[c] != ' ' && mayEndSentence(s[c-2]) && sentenceEnd(s, c-1) {
					return c, c - 1
				}
			}
			k += 8
			continue
		}
		if s[k-1] == ' ' && s[k] != ' ' && mayEndSentence(s[k-2]) && sentenceEnd(s, k-1) {
			return k, k - 1
		}
		k++
	}
	return end, end
}

// mayEndSentence is the byte test before sentenceEnd: the last byte of the
// rune before the space is one sentenceEnd can accept ('.', '!', '?', ')',
// '"', or the end of a multi-byte rune: '…' and the other quotation marks).
func mayEndSentence(c byte) bool {
	return c == '.' || c == '!' || c == '?' || c == ')' || c == '"' || c >= utf8.RuneSelf
}

// sentenceEnd reports whether the space at s[sp] follows the end of a sentence.
func sentenceEnd(s string, sp int) bool {
	r := runeBefore(s, sp)
	if isClosingQuote(r) || r == ')' {
		p := sp - utf8.RuneLen(r)
		r = runeBefore(s, p)
		if r == ')' || isClosingQuote(r) {
			return false
		}
		return r == '.' || r == '!' || r == '?' || isWord(r)
	}
	return r == '.' || r == '!' || r == '?' || r == '…'
}

// debrisOpening is the cheap test before classifyDebris: t begins with a
// word that begins page furniture, a mark of a credit or a bar, or a digit,
// or holds a slash (an agency credit).
func debrisOpening(t string) bool {
	c := t[0]
	switch {
	case c >= '0' && c <= '9', c == '-', c == '|', c == '[', c == '(', c == '*', c == 0xC2 || c == 0xE2: // ©, –, —, ·, •
		return true
	case asciiLetterByte(c):
	default:
		return false
	}
	if debrisWordOf(t) != 0 {
		return true
	}
	return len(t) <= 80 && strings.IndexByte(t, '/') >= 0
}

// debrisWordOf returns what the first ASCII word of t (lower-cased, up to
// 16 bytes) may begin, by debrisWords.
func debrisWordOf(t string) uint8 {
	var w [16]byte
	n := 0
	for n < len(t) && n < len(w) && (asciiLetterByte(t[n]) || t[n] == '-') {
		w[n] = t[n] | 0x20
		n++
	}
	if n == 0 || debrisShapes[w[0]&31]&(1<<n) == 0 {
		return 0 // no first word of furniture has this first letter and length
	}
	return debrisWords[string(w[:n])]
}

// debrisShapes has, by the first letter of each of debrisWords (its low
// five bits), a bit for each length it comes in.
var debrisShapes = func() (t [32]uint32) {
	for w := range debrisWords {
		t[w[0]&31] |= 1 << len(w)
	}
	return t
}()

func asciiLetterByte(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// What a first word may begin.
const (
	opensCredit uint8 = 1 << iota
	opensTeaser
	opensAd
	opensPage
	opensShare
)

// debrisWords are the first words of page furniture and what they may begin.
var debrisWords = func() map[string]uint8 {
	m := map[string]uint8{}
	for _, l := range creditLabels {
		m[strings.Fields(l)[0]] |= opensCredit
	}
	for _, l := range teasers {
		m[strings.Fields(l)[0]] |= opensTeaser
	}
	for k := range adMarkers {
		m[strings.Fields(k)[0]] |= opensAd
	}
	for _, w := range []string{"seite", "page", "s"} {
		m[w] |= opensPage
	}
	for _, w := range []string{"teilen", "share", "facebook", "twitter", "x", "whatsapp", "telegram", "e-mail", "email",
		"drucken", "print", "linkedin", "vk", "messenger", "threads", "bluesky", "flipboard"} {
		m[w] |= opensShare
	}
	return m
}()

// classifyDebris says whether t, the whole paragraph (whole) or its end,
// is page furniture, and what it looks like.
func classifyDebris(t string, whole bool) (debrisKind, string) {
	if len(t) > maxDebrisTail {
		return notDebris, ""
	}
	c := t[0]
	if c >= '0' && c <= '9' {
		if whole && len(t) <= 4 && isAllDigits(strings.TrimSpace(t)) {
			return isDebris, "" // a lone page number
		}
		return notDebris, ""
	}
	opens := debrisWordOf(t)
	if !asciiLetterByte(c) {
		opens = opensCredit | opensAd | opensPage // "©", "– Anzeige –", "[Werbung]"
	}
	if opens&opensCredit != 0 {
		low := strings.ToLower(t[:min(len(t), 24)])
		if k := creditPrefix(low); k > 0 {
			rest := strings.TrimSpace(t[k:])
			switch {
			case rest == "":
				return notDebris, ""
			case (strings.HasPrefix(low, "quelle") || strings.HasPrefix(low, "source")) && !agencyCredit(rest) && !whole:
				return maybeDebris, "a source line"
			case !creditLike(rest):
				return maybeDebris, "a photo credit"
			}
			return isDebris, ""
		}
	}
	if len(t) <= 80 && strings.IndexByte(t, '/') >= 0 && agencyCredit(t) {
		return isDebris, ""
	}
	if opens&opensTeaser != 0 {
		for _, p := range teasers {
			if len(t) < len(p) || !strings.EqualFold(t[:len(p)], p) {
				continue
			}
			rest := strings.TrimLeft(t[len(p):], " ")
			if rest == "" || rest[0] == ':' || rest[0] == '>' || strings.HasPrefix(rest, "»") || strings.HasPrefix(rest, "→") {
				return isDebris, ""
			}
			if r, _ := utf8.DecodeRuneInString(rest); unicode.IsUpper(r) || r == '„' || r == '"' || r == '“' {
				return maybeDebris, "a link to another article"
			}
			return notDebris, "" // "Lesen Sie auch den Kommentar" is a sentence
		}
	}
	if opens&(opensAd|opensPage) != 0 && len(t) <= 60 {
		bare := strings.Trim(strings.ToLower(t), " -–—|*[]()·•")
		if adMarkers[bare] || pageMarker(bare) {
			return isDebris, ""
		}
	}
	if opens&opensShare != 0 && len(t) <= 120 && shareBar(strings.ToLower(t)) {
		return isDebris, ""
	}
	return notDebris, ""
}

// creditPrefix returns the length of a credit label at the start of the
// lower-cased low ("foto:", "bild:", "photo:", "©"), or 0.
func creditPrefix(low string) int {
	if strings.HasPrefix(low, "©") {
		return len("©")
	}
	for _, p := range creditLabels {
		if strings.HasPrefix(low, p) {
			rest := low[len(p):]
			r := strings.TrimLeft(rest, " ")
			if strings.HasPrefix(r, ":") {
				return len(low) - len(r) + 1
			}
			if strings.HasPrefix(r, "©") {
				return len(low) - len(r) + len("©")
			}
		}
	}
	return 0
}

var creditLabels = []string{"fotos", "foto", "bilder", "bild", "bildquelle", "fotoquelle", "quelle", "photos",
	"photo", "images", "image", "picture", "pictures", "credit", "credits", "photo credit", "titelbild", "titelfoto",
	"archivbild", "archivfoto", "symbolbild", "symbolfoto", "screenshot", "grafik", "video", "source", "sources"}

// creditLike reports whether t reads as a credit, names and agencies, not
// as a sentence: "dpa/Michael Kappeler", "Gleb Garanich (Reuters)", "privat".
func creditLike(t string) bool {
	if agencyCredit(t) {
		return true
	}
	t = strings.TrimRight(t, ".")
	n := 0
	for t != "" {
		var w string
		w, t = nextCreditWord(t)
		if w == "" {
			continue
		}
		if n++; n > 6 {
			return false
		}
		w = strings.Trim(w, "()©[]")
		var buf [24]byte
		low := lowered(buf[:0], w)
		if w == "" || creditJoiners[string(low)] || agencies[string(low)] {
			continue
		}
		if r, _ := utf8.DecodeRuneInString(w); !unicode.IsUpper(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return n > 0
}

// nextCreditWord splits t at the first space, slash, bar, comma or
// semicolon: the word before it (empty between two of them) and the rest.
func nextCreditWord(t string) (word, rest string) {
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case ' ', '/', '|', ',', ';':
			return t[:i], t[i+1:]
		}
	}
	return t, ""
}

// lowered is s in lower case, in buf's memory where it fits and s is ASCII:
// for looking words up in the maps here without an allocation.
func lowered(buf []byte, s string) []byte {
	if len(s) > cap(buf) {
		return []byte(strings.ToLower(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return []byte(strings.ToLower(s))
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf
}

var creditJoiners = map[string]bool{"von": true, "van": true, "de": true, "und": true, "and": true, "via": true,
	"for": true, "für": true, "privat": true, "archiv": true, "handout": true, "-": true, "–": true, "pool": true}

// agencyCredit reports whether t is a credit of agencies and photographers
// joined by slashes: "dpa/AFP", "REUTERS/Maxim Shemetov", "picture alliance / dpa".
func agencyCredit(t string) bool {
	t = strings.TrimRight(strings.TrimSpace(t), ".")
	if len(t) > 80 || !strings.Contains(t, "/") || strings.Contains(t, "://") {
		return false
	}
	agency := false
	for more := true; more; {
		var part string
		part, t, more = strings.Cut(t, "/")
		var buf [80]byte
		p := lowered(buf[:0], strings.Trim(strings.TrimSpace(part), "©()"))
		if len(p) == 0 {
			return false
		}
		if agencies[string(p)] || bytes.HasPrefix(p, []byte("picture alliance")) || bytes.HasPrefix(p, []byte("getty")) {
			agency = true
			continue
		}
		// a photographer's name: two or three capitalised words
		words := 0
		for w := range strings.FieldsSeq(part) {
			if words++; words > 3 {
				return false
			}
			if r, _ := utf8.DecodeRuneInString(w); !unicode.IsUpper(r) {
				return false
			}
		}
	}
	return agency
}

var agencies = map[string]bool{"dpa": true, "afp": true, "ap": true, "reuters": true, "imago": true, "imago images": true,
	"getty images": true, "tass": true, "itar-tass": true, "ria novosti": true, "ria": true, "epa": true, "epa-efe": true,
	"keystone": true, "sputnik": true, "anadolu": true, "unian": true, "ukrinform": true, "xinhua": true, "efe": true,
	"ansa": true, "apa": true, "kna": true, "epd": true, "afp/getty": true, "zuma": true, "zuma press": true,
	"sipa": true, "shutterstock": true, "istock": true, "kyodo": true, "azertac": true, "armenpress": true,
	"interfax": true, "kazinform": true, "trend": true, "apa-images": true, "dpa-zentralbild": true, "ddp": true}

var teasers = []string{"lesen sie auch", "lesen sie mehr", "lesen sie hier", "mehr zum thema", "auch interessant",
	"das könnte sie auch interessieren", "weitere artikel", "read also", "read more", "also read",
	"see also", "more on this", "read next", "more stories"}

var adMarkers = map[string]bool{"werbung": true, "anzeige": true, "advertisement": true, "sponsored": true,
	"gesponsert": true, "ad": true, "promotion": true, "scroll to continue with content": true,
	"weiter nach der anzeige": true, "artikel wird nach der anzeige fortgesetzt": true, "story continues below advertisement": true}

// pageMarker reports "seite 2", "seite 2 von 3", "page 3", "page 2 of 5", "s. 4".
func pageMarker(low string) bool {
	for _, p := range []string{"seite ", "page ", "s. "} {
		if !strings.HasPrefix(low, p) {
			continue
		}
		rest := strings.Fields(low[len(p):])
		switch {
		case len(rest) == 1:
			return isAllDigits(rest[0])
		case len(rest) == 3 && (rest[1] == "von" || rest[1] == "of" || rest[1] == "/"):
			return isAllDigits(rest[0]) && isAllDigits(rest[2])
		}
	}
	return false
}

func isAllDigits(s string) bool {
	if s == "" || len(s) > maxDebrisDigits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// shareBar reports whether low is only the labels of a share or social bar,
// at least two of them: "Teilen Facebook Twitter E-Mail", "Share on X | Facebook".
func shareBar(low string) bool {
	n := 0
	for _, w := range strings.FieldsFunc(low, func(r rune) bool {
		return r == ' ' || r == '|' || r == '·' || r == '•' || r == ',' || r == '/'
	}) {
		w = strings.Trim(w, ":-–")
		if w == "" {
			continue
		}
		if !shareWords[w] {
			return false
		}
		n++
	}
	return n >= 2
}

var shareWords = map[string]bool{"teilen": true, "share": true, "facebook": true, "twitter": true, "x": true,
	"whatsapp": true, "telegram": true, "e-mail": true, "email": true, "mail": true, "drucken": true, "print": true,
	"linkedin": true, "pinterest": true, "xing": true, "reddit": true, "vk": true, "messenger": true, "kopieren": true,
	"copy": true, "link": true, "on": true, "auf": true, "artikel": true, "this": true, "article": true, "tweet": true,
	"teilen:": true, "share:": true, "threads": true, "bluesky": true, "flipboard": true, "versenden": true}

// fixGluedDigits strips digits glued to the sentence-final punctuation or
// closing quotation mark at the end of a paragraph ("Informationen.2477",
// "„…warten.“12"), and flags the cases that might be references ("Nr.5")
// or figures ("im Jahr 2022.15").
func (f *Fixer) fixGluedDigits(s string, observed *[]article.Flag) []repl {
	end := len(s)
	for end > 0 && (s[end-1] == ' ' || s[end-1] == '\t') {
		end--
	}
	d := end
	for d > 0 && s[d-1] >= '0' && s[d-1] <= '9' {
		d--
	}
	if d == end || end-d > maxDebrisDigits || d == 0 {
		return nil
	}
	suspect := func() []repl {
		*observed = append(*observed, article.Flag{
			Code:       FlagDebrisSuspect,
			Message:    fmt.Sprintf("digits %q glued to the end of the paragraph may be page debris", s[d:end]),
			Offset:     d,
			Suggestion: s[:d],
		})
		return nil
	}
	// the punctuation the digits are glued to, possibly after a closing mark
	p := d
	quoted := false
	if r := runeBefore(s, p); isClosingQuote(r) && r != '"' {
		p -= utf8.RuneLen(r)
		quoted = true
	}
	if p == 0 {
		return nil
	}
	switch s[p-1] {
	case '!', '?':
		if p-1 > 0 && isWord(runeBefore(s, p-1)) {
			return []repl{{start: d, end: end, text: "", rule: RuleDebris}}
		}
		return nil
	case '.':
	default:
		if quoted && isWord(runeBefore(s, p)) && strings.Contains(s[:p], " ") {
			// „Wir warten“12: a closing mark after a word takes no digits
			return []repl{{start: d, end: end, text: "", rule: RuleDebris}}
		}
		return nil
	}
	if p-1 == 0 || !strings.Contains(s[:p], " ") {
		return nil
	}
	w := p - 1
	for w > 0 && p-1-w <= maxWord {
		r, sz := utf8.DecodeLastRuneInString(s[:w])
		if !isWord(r) {
			break
		}
		w -= sz
	}
	word := s[w : p-1]
	if word == "" {
		return nil
	}
	if strings.IndexFunc(word, unicode.IsDigit) >= 0 {
		if isAllDigits(word) && len(word) == 4 && !quoted && w > 0 && s[w-1] == ' ' {
			return suspect() // "im Jahr 2022.15": a year, then a page number?
		}
		return nil // "3.5", "1.4.2021", "v1.2", "20.15"
	}
	if _, ok := abbreviations[strings.ToLower(word)]; ok {
		return nil // "Nr.5", "S.12", "Art.5"
	}
	if utf8.RuneCountInString(word) < 4 || strings.ToUpper(word) == word {
		return suspect()
	}
	return []repl{{start: d, end: end, text: "", rule: RuleDebris}}
}

// mayBeDebris is the test of needs: digits end the paragraph, or page
// furniture makes up it or its end (found as fixDebris finds it).
func mayBeDebris(s string) bool {
	n := len(s)
	for n > 0 && (s[n-1] == ' ' || s[n-1] == '\t') {
		n--
	}
	if n == 0 {
		return false
	}
	if c := s[n-1]; c >= '0' && c <= '9' {
		return true
	}
	// debrisTail acts only where a tail passes debrisOpening.
	for k, _ := debrisStart(s, n, max(0, n-maxDebrisTail)); k < n; k, _ = debrisStart(s, n, k+1) {
		if debrisOpening(s[k:n]) {
			return true
		}
	}
	return false
}
