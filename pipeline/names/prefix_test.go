package names

import (
	"slices"
	"strings"
	"testing"
	"unicode"
)

// The short transliteration that filters words must be the start of the full one.
func TestTransliterationPrefixStartsTheFullForm(t *testing.T) {
	words := []string{
		"A", "Ab", "Abc", "Schtschukin", "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "Jelzin", "Yeltsin",
		"Bundesverfassungsgericht", "Sssssssssssssssssssschtsch", "Tschernomyrdin", "Əliyev",
		"Oberschtschschtschschtschschtsch", "Weißrussland", "Zhytomyrshchyna", "Xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		strings.Repeat("ä", 12) + "sch", strings.Repeat("ie", 9) + "w",
	}
	for _, w := range words {
		prefixAgrees(t, w)
	}
}

func prefixAgrees(t *testing.T, w string) {
	full := appendTranslit(nil, w)
	for _, max := range []int{3, 4} {
		short := appendTranslitN(nil, w, max)
		n := min(max, len(full))
		if len(short) < n || string(short[:n]) != string(full[:n]) {
			t.Errorf("%q: prefix %q, full %q", w, short, full)
		}
	}
}

func FuzzTransliterationPrefix(f *testing.F) {
	f.Add("Schtschukin")
	f.Fuzz(prefixAgrees)
}

// plainTokenize splits s into words rune by rune.
func plainTokenize(s string) []token {
	var out []token
	start, upper := -1, false
	for i, r := range s {
		switch {
		case isWordRune(r) && start < 0:
			start, upper = i, unicode.IsUpper(r)
		case !isWordRune(r) && start >= 0:
			out = append(out, token{start, i, upper})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, token{start, len(s), upper})
	}
	return out
}

// tokenize must find the words a rune-by-rune split finds, and
// nextCapitalised exactly the capitalised ones.
func capitalisedAgree(t *testing.T, s string) {
	all := tokenize(nil, s)
	if plain := plainTokenize(s); !slices.Equal(all, plain) {
		t.Fatalf("%q: tokenize %v, rune by rune %v", s, all, plain)
	}
	var want []token
	for _, tok := range all {
		if tok.upper {
			want = append(want, tok)
		}
	}
	var got []token
	for tok, next := nextCapitalised(s, 0); tok.end > 0; tok, next = nextCapitalised(s, next) {
		got = append(got, tok)
	}
	if len(got) != len(want) {
		t.Fatalf("%q: got %v, want %v", s, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%q: got %v, want %v", s, got, want)
		}
	}
}

func TestCapitalisedWordsAgreeWithTokenize(t *testing.T) {
	for _, s := range []string{
		"", "A", "a", "Der Kreml-Sprecher Dmitri Peskow sagte, iPhone und McDonald's.",
		"Ärger über Öl: „Überall“ Ğülen ßA äB ÉtatÉ", "x\u0301Y \u0301Z", "Пётр Иванов и Šiauliai",
		"Bundesverfassungsgerichtsentscheidung undsoweiterundsofort Donaudampfschifffahrtsgesellschaftskapitän×2",
	} {
		capitalisedAgree(t, s)
	}
}

func FuzzCapitalisedWords(f *testing.F) {
	f.Add("Der Kreml-Sprecher Dmitri Peskow sagte, iPhone und McDonald's.")
	f.Add("Ärger über Öl: „Überall“ Ğülen ßA äB")
	f.Fuzz(capitalisedAgree)
}
