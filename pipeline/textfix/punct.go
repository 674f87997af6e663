package textfix

import (
	"strings"
	"unicode"

	"github.com/dewire/dewire/pipeline/article"
)

// fixPunct collapses doubled ? and . (and ! when the style says so) and
// removes spaces before punctuation.
func (f *Fixer) fixPunct(s string, _, observed *[]article.Flag) []repl {
	var rs []repl
	n := len(s)
	for i := 0; i < n; i++ {
		c := s[i]
		switch c {
		case '?', '!':
			j := i + 1
			for j < n && s[j] == c {
				j++
			}
			switch {
			case j-i < 2 || inLink(s, i):
			case c == '?' || f.exclamations == ExclamationsCollapse:
				rs = append(rs, repl{start: i, end: j, text: s[i : i+1], rule: RulePunctCollapse})
			default:
				// Repeated exclamation marks may be deliberate emphasis
				// ("Toll!!"): the desk decides.
				*observed = append(*observed, article.Flag{Code: FlagRepeatedExclamation,
					Message: "repeated exclamation marks left as written (desk style exclamations: collapse removes them)", Offset: i})
			}
			i = j - 1
		case '.':
			j := i + 1
			for j < n && s[j] == '.' {
				j++
			}
			// exactly two periods after a word and before a break: "Ende.." (never "...")
			if j-i == 2 && i > 0 && !isBlank(runeBefore(s, i)) && s[i-1] != '.' {
				if nx := runeAt(s, j); (isBlank(nx) || quoteFamily(nx) != famNone) && !inLink(s, i) {
					rs = append(rs, repl{start: i, end: j, text: ".", rule: RulePunctCollapse})
				}
			}
			i = j - 1
		case ' ':
			j := i
			for j < n && s[j] == ' ' {
				j++
			}
			if j < n && i > 0 && spaceRemovable(s, i, j) {
				rs = append(rs, repl{start: i, end: j, text: "", rule: RulePunctSpaceBefore})
			}
			i = j - 1
		}
	}
	return rs
}

// spaceRemovable reports whether the spaces s[i:j] before a punctuation mark
// are a typo, not an emoticon (" :-)"), an ellipsis (" ...") or a score ("2 : 1").
func spaceRemovable(s string, i, j int) bool {
	p := runeBefore(s, i)
	if !(isWord(p) || p == ')' || p == ']' || p == '%' || isClosingQuote(p)) {
		return false
	}
	c := s[j]
	next := runeAt(s, j+1)
	switch c {
	case '.':
		if next == '.' || !(isBlank(next) || isClosingQuote(next)) {
			return false
		}
	case ',', ';':
		if !isBlank(next) {
			return false
		}
	case ':':
		if !isBlank(next) || (unicode.IsDigit(p) && unicode.IsDigit(runeAt(s, skipSpaces(s, j+1)))) {
			return false
		}
	case '?', '!':
		if !(isBlank(next) || next == '?' || next == '!' || next == ')' || isClosingQuote(next)) {
			return false
		}
	default:
		return false
	}
	return !inLink(s, i-1)
}

func isClosingQuote(r rune) bool {
	switch r {
	case '“', '”', '«', '»', '‘', '’', '"', '‹', '›':
		return true
	}
	return false
}

// inLink reports whether s[i] lies inside a URL or an e-mail address.
func inLink(s string, i int) bool {
	if i < 0 {
		return false
	}
	a := strings.LastIndexAny(s[:i], " \t\n") + 1
	b := strings.IndexAny(s[i:], " \t\n")
	if b < 0 {
		b = len(s)
	} else {
		b += i
	}
	tok := s[a:b]
	return strings.Contains(tok, "://") || strings.HasPrefix(tok, "www.") || strings.Contains(tok, "@")
}
