package segment

import (
	"unicode"
	"unicode/utf8"
)

// rules holds the language-specific tables. The tables are read-only.
type rules struct {
	abbrev      map[string]struct{} // never end a sentence
	finalAbbrev map[string]struct{} // may end a sentence before a capital
	ordinals    bool                // "1. April", "13. Jahrhundert"
}

func newRules(lang string) *rules {
	if lang == "de" {
		return &rulesDE
	}
	return &rulesEN
}

func set(words ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}

// Keys are lowercase with the periods removed ("z. B." is covered by the
// single-letter rule, "z.B." by key "zb").
var (
	rulesDE = rules{
		abbrev: set("nr", "dr", "bzw", "ca", "prof", "st", "zb", "ua", "uä", "oä", "dh", "vgl", "ggf", "evtl",
			"hr", "fr", "mio", "mrd", "tsd", "inkl", "zzgl", "bspw", "jh", "jhd", "str", "abs", "art", "bd",
			"hrsg", "geb", "gest", "gegr", "min", "std", "kap", "abb", "tab", "anm", "dipl", "ing", "mag",
			"jan", "feb", "apr", "jun", "jul", "aug", "sep", "sept", "okt", "nov", "dez", "sog", "zt", "va",
			"idr", "uu", "ad", "nchr", "vchr", "mr", "mrs", "ms", "corp", "co", "ltd", "inc", "bzgl", "insb",
			"gen", "lt", "kl", "hl", "verh", "wg", "usa", "rd", "bzw", "stv", "präs", "abg", "vors"),
		finalAbbrev: set("usw", "etc", "ff"),
		ordinals:    true,
	}
	rulesEN = rules{
		abbrev: set("mr", "mrs", "ms", "dr", "prof", "st", "us", "uk", "un", "eu", "eg", "ie", "vs", "inc",
			"corp", "ltd", "jr", "sr", "no", "nos", "gen", "sen", "rep", "gov", "lt", "col", "capt", "sgt",
			"jan", "feb", "apr", "aug", "sept", "oct", "nov", "dec", "approx", "dept", "est", "fig", "mt",
			"ft", "ave", "blvd", "rev", "hon", "pres", "supt", "cf", "al"),
		finalAbbrev: set("etc", "am", "pm"),
	}

	months = set("januar", "jänner", "februar", "märz", "april", "mai", "juni", "juli", "august",
		"september", "oktober", "november", "dezember", "jan", "feb", "mär", "apr", "jun", "jul",
		"aug", "sep", "sept", "okt", "nov", "dez")

	// Words that begin a German sentence after a number and a full stop
	// ("… im Jahr 20. Dann …" is rare; "… waren es 20. Die …" is not).
	sentenceStarters = set("Der", "Die", "Das", "Den", "Dem", "Des", "Ein", "Eine", "Einen", "Er", "Sie",
		"Es", "Wir", "Ihr", "Ich", "Man", "Dann", "Danach", "Doch", "Aber", "Und", "Auch", "Damit",
		"Dies", "Diese", "Dieser", "Dieses", "In", "Im", "Am", "Auf", "Bei", "Mit", "Nach", "Vor", "Seit",
		"So", "Zudem", "Außerdem", "Allerdings", "Jedoch", "Insgesamt", "Nun", "Jetzt", "Heute", "Zuletzt",
		"Wie", "Was", "Wer", "Wo", "Warum", "Als", "Wenn", "Weil", "Obwohl", "Laut", "Demnach", "Daher",
		"Deshalb", "Somit", "Zum", "Zur", "Für", "Von", "Vom", "Unter", "Über", "Bis", "Noch", "Nur",
		"Mehr", "Rund", "Etwa", "Fast", "Knapp", "Gut", "Insgesamt", "Ob", "Denn", "Da", "Hier", "Dort")
)

// isCloser reports whether the mark at text[j] closes a quotation or a
// bracket. Ambiguous quotation marks are read from their position: after
// whitespace and before a word they open, elsewhere they close.
func isCloser(text string, j int) bool {
	c, size := utf8.DecodeRuneInString(text[j:])
	switch c {
	case ')', ']', '’':
		return true
	case '“', '”', '"', '«', '»', '\'':
		return !opensAt(text, j, size)
	}
	return false
}

func isOpener(text string, j int) bool {
	c, size := utf8.DecodeRuneInString(text[j:])
	switch c {
	case '„':
		return true
	case '“', '”', '"', '«', '»':
		return opensAt(text, j, size)
	}
	return false
}

func opensAt(text string, j, size int) bool {
	if j > 0 {
		prev, _ := utf8.DecodeLastRuneInString(text[:j])
		if !unicode.IsSpace(prev) && prev != '(' && prev != '[' && prev != '–' && prev != '-' && prev != '/' {
			return false
		}
	}
	if j+size >= len(text) {
		return false
	}
	next, _ := utf8.DecodeRuneInString(text[j+size:])
	return unicode.IsLetter(next) || unicode.IsDigit(next) || next == '.' || next == '…' || next == '\''
}

// region is the inside of a quotation followed by attribution
// ("„…“, sagte er"): sentence ends inside it do not split.
type region struct{ start, end int }

func quotedRegions(r *rules, text string) []region {
	var stack []int
	var out []region
	for j := 0; j < len(text); {
		c, size := utf8.DecodeRuneInString(text[j:])
		switch {
		case c < 0x80 && c != '"':
		case isOpener(text, j):
			stack = append(stack, j)
		case len(stack) > 0 && isCloser(text, j) && c != ')' && c != ']' && c != '’':
			open := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if attributed(text, j+size) {
				out = append(out, region{open, j})
			}
		}
		j += size
	}
	return out
}

// attributed reports whether a closing mark ending at k is followed by
// attribution: a comma, a dash or a lowercase word.
func attributed(text string, k int) bool {
	for k < len(text) {
		c, size := utf8.DecodeRuneInString(text[k:])
		switch {
		case c == ' ' || c == '\u00a0':
			k += size
			continue
		case c == ',' || c == '–' || c == '—':
			return true
		default:
			return unicode.IsLower(c)
		}
	}
	return false
}

func inRegion(rs []region, i int) bool {
	for _, r := range rs {
		if i > r.start && i < r.end {
			return true
		}
	}
	return false
}
