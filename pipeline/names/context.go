package names

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// span is a byte range [start, end) of a field that names are never
// rewritten in.
type span struct{ start, end int }

// spans are sorted and disjoint.
type spans []span

// has reports whether the byte range [a, b) overlaps one of the spans.
func (sp spans) has(a, b int) bool {
	k := sort.Search(len(sp), func(k int) bool { return sp[k].end > a })
	return k < len(sp) && sp[k].start < b
}

// protectedSpans finds, in one pass, what a name inside must stay as written:
// URLs, e-mail addresses, social-media handles and hashtags (their spelling
// is an address, not prose), and quoted titles of works and media ("der
// Film „Schuschi“", "the newspaper “Kyiv Post”").
func protectedSpans(s string) spans {
	var out spans
	if strings.Contains(s, "://") || strings.Contains(s, "www.") || strings.IndexByte(s, '@') >= 0 || strings.IndexByte(s, '#') >= 0 || strings.IndexByte(s, '/') >= 0 {
		for a := 0; a < len(s); {
			for a < len(s) && isSpaceByte(s[a]) {
				a++
			}
			b := a
			for b < len(s) && !isSpaceByte(s[b]) {
				b++
			}
			if tok := s[a:b]; b > a && (strings.Contains(tok, "://") || strings.HasPrefix(tok, "www.") ||
				strings.IndexByte(tok, '@') >= 0 || len(tok) > 1 && tok[0] == '#' || bareURL(tok)) {
				out = append(out, span{a, b})
			}
			a = b
		}
	}
	titles := quotedTitles(s)
	if len(titles) == 0 {
		return out
	}
	if len(out) == 0 {
		return titles
	}
	out = append(out, titles...)
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	merged := out[:1]
	for _, sp := range out[1:] {
		last := &merged[len(merged)-1]
		if sp.start <= last.end {
			last.end = max(last.end, sp.end)
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

// bareURL reports an address without a scheme: a host with a dot, then a
// path ("t.me/Aliyev_official", "kremlin.ru/events").
func bareURL(tok string) bool {
	k := strings.IndexByte(tok, '/')
	if k <= 0 {
		return false
	}
	host := tok[:k]
	d := strings.LastIndexByte(host, '.')
	return d > 0 && d < len(host)-1 && strings.IndexFunc(host, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-')
	}) < 0
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// maxTitle bounds, in bytes, the quoted title of a work.
const maxTitle = 200

// quotedTitles finds quotations that follow a word for a work or an outlet
// within two words: „…“, “…”, "…", »…«, «…».
func quotedTitles(s string) spans {
	var out spans
	for i := 0; i < len(s); {
		// jump to the next byte that may start an opening mark
		j := i
		for j < len(s) && s[j] != '"' && s[j] != 0xE2 && s[j] != 0xC2 {
			j++
		}
		if j >= len(s) {
			break
		}
		i = j
		r, size := utf8.DecodeRuneInString(s[i:])
		closer := titleCloser(r)
		if closer == "" || !afterWorkWord(s[:i]) {
			i += size
			continue
		}
		from := i + size
		limit := min(len(s), from+maxTitle)
		k := strings.Index(s[from:limit], closer)
		if k < 0 && closer == "“" {
			k = strings.Index(s[from:limit], "”") // „…” in machine translation
		}
		if k <= 0 {
			i = from
			continue
		}
		end := from + k + len(closer)
		out = append(out, span{i, end})
		i = end
	}
	return out
}

// titleCloser returns the closer of an opening mark of a quoted title, or "".
func titleCloser(r rune) string {
	switch r {
	case '„':
		return "“"
	case '“':
		return "”"
	case '"':
		return `"`
	case '»':
		return "«"
	case '«':
		return "»"
	case '‚':
		return "‘"
	}
	return ""
}

// afterWorkWord reports whether one of the two words before the end of s
// names a work or an outlet ("Film", "Zeitung", "titled").
func afterWorkWord(s string) bool {
	for _, w := range lastWords(s, 2) {
		if workWords[strings.Trim(w, "()")] {
			return true
		}
	}
	return false
}

var workWords = setOf(
	// German works
	"film", "films", "spielfilm", "dokumentarfilm", "dokumentation", "doku", "buch", "buches", "roman", "romans",
	"lied", "liedes", "song", "songs", "album", "albums", "serie", "sendung", "titel", "stück", "theaterstück",
	"oper", "ausstellung", "gedicht", "studie", "artikel", "kolumne", "reportage", "podcast", "festival", "motto",
	"theaterstücks", "bestseller", "memoiren", "erzählung",
	// German outlets
	"zeitung", "tageszeitung", "wochenzeitung", "zeitschrift", "magazin", "sender", "fernsehsender", "radiosender",
	"kanal", "telegram-kanal", "telegramkanal", "portal", "nachrichtenportal", "onlineportal", "internetportal",
	"agentur", "nachrichtenagentur", "blatt", "nachrichtenseite", "website", "webseite", "plattform", "verlag",
	// English
	"film", "movie", "documentary", "book", "novel", "song", "album", "series", "show", "programme", "program",
	"play", "opera", "exhibition", "poem", "study", "article", "column", "podcast", "festival", "titled", "entitled",
	"headlined", "newspaper", "daily", "weekly", "magazine", "outlet", "channel", "broadcaster", "station", "portal",
	"site", "agency", "publication", "publisher", "memoir",
)

// mediaAfter are words that, right after a place, make it part of the name
// of an outlet or organisation: "Kyiv Post", "Moscow Times", "Baku Network".
var mediaAfter = setOf("post", "times", "independent", "herald", "tribune", "daily", "news", "today", "gazette",
	"telegraph", "observer", "journal", "express", "pravda", "prawda", "echo", "radio", "tv", "television",
	"broadcasting", "online", "insider", "review", "monitor", "standard", "mail", "record", "week", "weekly",
	"network", "media", "press", "bulletin", "reporter", "sun", "star", "wedomosti", "vedomosti", "kurier",
	"zeitung", "rundschau", "anzeiger", "nachrichten", "allgemeine", "morgenpost", "uni", "university",
	"universität", "philharmonie", "philharmonic", "orchestra", "ballet", "ballett", "opera", "oper", "airlines")

// mediaBefore are words that, right before a place, make it part of a name:
// "Radio Baku", "Echo Moskwy", "Dynamo Kyiv".
var mediaBefore = setOf("radio", "echo", "tv", "fc", "fk", "sc", "dynamo", "dinamo", "lokomotive", "lokomotiv",
	"spartak", "zska", "cska", "torpedo", "schachtar", "shakhtar", "neftchi", "qarabag", "inter", "metalist",
	"metalurh", "ararat", "pyunik", "universität", "university", "novaya", "nowaja", "kommersant")

// inOrgName reports whether the place mention s[start:end] is part of the
// proper name of an outlet, club or institution.
func inOrgName(s string, start, end int) bool {
	if w := nextWord(s, end); w != "" && isUpperStart(w) && mediaAfter[strings.ToLower(w)] {
		return true
	}
	if w := prevWord(s, start); w != "" && isUpperStart(w) && mediaBefore[strings.ToLower(w)] {
		return true
	}
	return false
}

// nextWord returns the word after one space at s[end:].
func nextWord(s string, end int) string {
	if end >= len(s) || s[end] != ' ' {
		return ""
	}
	i := end + 1
	j := wordEnd(s, i)
	return s[i:j]
}

// prevWord returns the word before one space ending at s[:start].
func prevWord(s string, start int) string {
	if start < 2 || s[start-1] != ' ' {
		return ""
	}
	j := start - 1
	i := j
	for i > 0 && j-i < 40 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if !isWordRune(r) {
			break
		}
		i -= size
	}
	return s[i:j]
}

func isUpperStart(w string) bool {
	c := w[0]
	return c >= 'A' && c <= 'Z' || c >= 0x80
}

// languageNames are the language words of a gloss ("armenisch: Stepanakert",
// "(Ukrainian: Kharkiv)").
var languageNames = setOf("armenisch", "aserbaidschanisch", "russisch", "ukrainisch", "georgisch", "kasachisch",
	"usbekisch", "kirgisisch", "tadschikisch", "turkmenisch", "belarussisch", "weißrussisch", "moldauisch",
	"rumänisch", "tatarisch", "tschetschenisch", "englisch", "deutsch", "französisch", "türkisch", "polnisch",
	"ossetisch", "abchasisch", "krimtatarisch",
	"armenian", "azerbaijani", "azeri", "russian", "ukrainian", "georgian", "kazakh", "uzbek", "kyrgyz", "tajik",
	"turkmen", "belarusian", "moldovan", "romanian", "tatar", "chechen", "english", "german", "french", "turkish",
	"polish", "ossetian", "abkhaz", "abkhazian")

// glossContext reports whether the name at s[start:] stands in a gloss that
// gives the other language's form: "(armenisch: Stepanakert)", "ukrainisch
// Charkiw", "auf Ukrainisch Kyjiw", "(English: Kharkiv)", "in Ukrainian, Kyiv".
func glossContext(s string, start int) bool {
	a := max(0, start-48)
	for a > 0 && !utf8.RuneStart(s[a]) {
		a++
	}
	b := strings.TrimRight(s[a:start], " ")
	colon := strings.HasSuffix(b, ":") || strings.HasSuffix(b, ",")
	b = strings.TrimRight(b, ":,")
	k := strings.LastIndexAny(b, " (\"„“")
	w := strings.ToLower(b[k+1:])
	if !languageNames[w] {
		return false
	}
	before := ""
	if k >= 0 {
		before = strings.ToLower(lastWordOf(b[:k+1]))
	}
	paren := k >= 0 && b[k] == '('
	german := strings.HasSuffix(w, "isch")
	switch {
	case colon, paren:
		return true
	case before == "auf" || before == "in" || before == "for" || before == "from":
		return true
	case german && b[k+1] >= 'a':
		return true // "ukrainisch Charkiw": the uninflected adjective is a gloss
	}
	return false
}

func lastWordOf(s string) string {
	s = strings.TrimRight(s, " (")
	k := strings.LastIndexAny(s, " (")
	return s[k+1:]
}

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
