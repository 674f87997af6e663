package mt

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Protected is a text whose glossary terms were replaced by placeholder
// tokens, for engines that cannot take a glossary. Restore puts the English
// forms in.
type Protected struct {
	Text   string
	tokens []placeholder
}

type placeholder struct {
	token string
	en    string
}

// Protect replaces every whole-word occurrence of a glossary term's German
// form in text by a token that translation engines copy unchanged.
func Protect(text string, glossary []Term) Protected {
	terms := append([]Term(nil), glossary...)
	// Longer forms first, so "Wladimir Putin" wins over "Putin".
	sort.SliceStable(terms, func(i, j int) bool { return len(terms[i].DE) > len(terms[j].DE) })
	p := Protected{Text: text}
	for _, term := range terms {
		if term.DE == "" || !ContainsWord(p.Text, term.DE) {
			continue
		}
		tok := placeholderToken(len(p.tokens))
		p.Text = replaceWord(p.Text, term.DE, tok)
		p.tokens = append(p.tokens, placeholder{token: tok, en: term.EN})
	}
	return p
}

// Protecting reports whether any term was replaced.
func (p Protected) Protecting() bool { return len(p.tokens) > 0 }

// Restore replaces the tokens in an engine's output by the English forms.
// It reports false when a token went missing, so the caller can translate
// the segment again without protection.
func (p Protected) Restore(out string) (string, bool) {
	return p.RestoreWith(out, func(en string) string { return en })
}

// RestoreWith is Restore with each English form rendered by render (for
// example wrapped in markup).
func (p Protected) RestoreWith(out string, render func(en string) string) (string, bool) {
	for _, ph := range p.tokens {
		if !strings.Contains(out, ph.token) {
			return out, false
		}
	}
	for _, ph := range p.tokens {
		out = strings.ReplaceAll(out, ph.token, render(ph.en))
	}
	return out, true
}

// placeholderToken is "ZQXA", "ZQXB", …: a capitalised non-word that
// engines treat as a name and copy.
func placeholderToken(n int) string {
	suffix := ""
	for {
		suffix = string(rune('A'+n%26)) + suffix
		n = n/26 - 1
		if n < 0 {
			break
		}
	}
	return "ZQX" + suffix
}

// ContainsWord reports whether w occurs in s at word boundaries.
func ContainsWord(s, w string) bool { return indexWord(s, w, 0) >= 0 }

func indexWord(s, w string, from int) int {
	if w == "" {
		return -1
	}
	for from <= len(s) {
		i := strings.Index(s[from:], w)
		if i < 0 {
			return -1
		}
		i += from
		if boundaryBefore(s, i) && boundaryAfter(s, i+len(w)) {
			return i
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		from = i + size
	}
	return -1
}

func boundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	c, _ := utf8.DecodeLastRuneInString(s[:i])
	return !unicode.IsLetter(c) && !unicode.IsDigit(c)
}

func boundaryAfter(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	c, _ := utf8.DecodeRuneInString(s[i:])
	return !unicode.IsLetter(c) && !unicode.IsDigit(c)
}

func replaceWord(s, w, repl string) string {
	var b strings.Builder
	from := 0
	for {
		i := indexWord(s, w, from)
		if i < 0 {
			break
		}
		b.WriteString(s[from:i])
		b.WriteString(repl)
		from = i + len(w)
	}
	b.WriteString(s[from:])
	return b.String()
}

// ReplaceWord replaces every whole-word occurrence of w in s by repl.
func ReplaceWord(s, w, repl string) string { return replaceWord(s, w, repl) }
