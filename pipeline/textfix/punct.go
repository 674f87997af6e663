package textfix

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/dewire/dewire/pipeline/article"
)

// fixPunct collapses doubled ? and . (and ! when the style says so) and
// removes spaces before punctuation.
func (f *Fixer) fixPunct(s string, _, observed *[]article.Flag) []repl {
	var rs []repl
	n := len(s)
	links := linkSpans(s)
	for i := 0; i < n; i++ {
		c := s[i]
		switch c {
		case '?', '!':
			j := i + 1
			for j < n && s[j] == c {
				j++
			}
			switch {
			case j-i < 2 || links.has(i):
			case c == '?' || f.exclamations == ExclamationsCollapse:
				rs = append(rs, repl{start: i, end: j, text: s[i : i+1], rule: RulePunctCollapse})
			default:
				// Repeated exclamation marks may be deliberate emphasis
				// ("Toll!!"): the desk decides.
				*observed = append(*observed, article.Flag{Code: FlagRepeatedExclamation, Offset: i,
					Message: fmt.Sprintf("check %q near %q: keep it if it is deliberate emphasis (a quotation, reader mail), else write one; left as written (desk style exclamations: collapse removes them)", s[i:j], snippet(s, i))})
			}
			i = j - 1
		case '.':
			j := i + 1
			for j < n && s[j] == '.' {
				j++
			}
			// exactly two periods after a word and before a break: "Ende.." (never "...")
			if j-i == 2 && i > 0 && !isBlank(runeBefore(s, i)) && s[i-1] != '.' {
				if nx := runeAt(s, j); (isBlank(nx) || quoteFamily(nx) != famNone) && !links.has(i) {
					rs = append(rs, repl{start: i, end: j, text: ".", rule: RulePunctCollapse})
				}
			}
			i = j - 1
		case ' ':
			j := i
			for j < n && s[j] == ' ' {
				j++
			}
			if j < n && i > 0 && spaceRemovable(s, i, j) && !links.has(i-1) {
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
	return true
}

func isClosingQuote(r rune) bool {
	switch r {
	case '“', '”', '«', '»', '‘', '’', '"', '‹', '›':
		return true
	}
	return false
}

// spans are sorted, disjoint byte ranges [start, end) of a paragraph.
type spans []span

type span struct{ start, end int }

// has reports whether s[i] lies inside one of the spans.
func (sp spans) has(i int) bool {
	k := sort.Search(len(sp), func(k int) bool { return sp[k].end > i })
	return k < len(sp) && sp[k].start <= i
}

// linkSpans finds the URLs, e-mail addresses, handles and hashtags of s in
// one pass: the white-space-delimited tokens that contain "://" or "@",
// begin with "www." or "#". Nothing inside them is typography.
func linkSpans(s string) spans {
	if !strings.Contains(s, "://") && !strings.Contains(s, "www.") && strings.IndexByte(s, '@') < 0 && strings.IndexByte(s, '#') < 0 {
		return nil
	}
	var out spans
	for a := 0; a < len(s); {
		for a < len(s) && isLinkSpace(s[a]) {
			a++
		}
		b := a
		for b < len(s) && !isLinkSpace(s[b]) {
			b++
		}
		if tok := s[a:b]; b > a && (strings.Contains(tok, "://") || strings.HasPrefix(tok, "www.") ||
			strings.IndexByte(tok, '@') >= 0 || len(tok) > 1 && tok[0] == '#') {
			out = append(out, span{a, b})
		}
		a = b
	}
	return out
}

func isLinkSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }
