package textfix

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dewire/dewire/pipeline/article"
)

// maxDebrisDigits bounds the page numbers and counters we treat as debris.
const maxDebrisDigits = 6

// fixDebris strips digits glued to the sentence-final punctuation at the end of
// a paragraph ("Informationen.2477"), a page number or counter picked up in
// extraction, and flags the cases that might be references ("Nr.5").
func (f *Fixer) fixDebris(s string, _, observed *[]article.Flag) []repl {
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
	// the punctuation the digits are glued to, possibly after a closing mark
	p := d
	if r := runeBefore(s, p); isClosingQuote(r) {
		p -= utf8.RuneLen(r)
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
		return nil
	}
	if p-1 == 0 || !strings.Contains(s[:p], " ") {
		return nil
	}
	w := p - 1
	for w > 0 {
		r, sz := utf8.DecodeLastRuneInString(s[:w])
		if !isWord(r) {
			break
		}
		w -= sz
	}
	word := s[w : p-1]
	if word == "" || strings.IndexFunc(word, unicode.IsDigit) >= 0 {
		return nil // "3.5", "1.4.2021", "v1.2"
	}
	if _, ok := abbreviations[strings.ToLower(word)]; ok {
		return nil // "Nr.5", "S.12", "Art.5"
	}
	if utf8.RuneCountInString(word) < 4 || strings.ToUpper(word) == word {
		*observed = append(*observed, article.Flag{
			Code:    FlagDebrisSuspect,
			Message: fmt.Sprintf("digits %q glued to the end of the paragraph may be page debris", s[d:end]),
			Offset:  d,
		})
		return nil
	}
	return []repl{{start: d, end: end, text: "", rule: RuleDebris}}
}
