package names

import (
	"sync"
	"unicode/utf8"
)

// Key returns the language-neutral transliteration key of one word, so that
// German (Duden press), English (BGN/PCGN), hybrid and diacritic spellings
// of the same Russian, Ukrainian or Caucasian name share it:
// Key("Konaschenkow") == Key("Konashenkov") == Key("Konaschenkov").
//
// The key lower-cases, folds diacritics and Cyrillic to Latin, maps
// schtsch/shch, tsch/ch/kh, sch/sh/zh, z/ts/tz/s, w/v and j/y/i onto common
// symbols, collapses doubled letters and folds the surname endings
// -ow/-ov/-ew/-ev/-jew/-yev. A key is only meant for comparison: it is not
// readable text. Key of a text of several words keys each word and joins
// them with one space.
func Key(s string) string {
	var buf []byte
	start := -1
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			if len(buf) > 0 {
				buf = append(buf, ' ')
			}
			buf = appendKey(buf, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		if len(buf) > 0 {
			buf = append(buf, ' ')
		}
		buf = appendKey(buf, s[start:])
	}
	return string(buf)
}

// appendKey appends the key of the single word w to dst.
func appendKey(dst []byte, w string) []byte {
	n := len(dst)
	dst = appendTranslit(dst, w)
	return finishKey(dst, n)
}

// appendTranslit appends the mapped form of w (before the ending fold) to dst.
func appendTranslit(dst []byte, w string) []byte {
	return appendTranslitN(dst, w, -1)
}

// appendTranslitN is appendTranslit that stops once it has appended max
// bytes (max < 0: no limit); the bytes it appends are the first of the
// full transliteration.
func appendTranslitN(dst []byte, w string, max int) []byte {
	if max >= 0 {
		// Fold the start of a word of ASCII and Latin-1 letters directly.
		var buf [maxPrefixInput + 2]byte
		n, j := 0, 0
		for j < len(w) && n < maxPrefixInput {
			c := w[j]
			if c < utf8.RuneSelf {
				if asciiLetter[c] != 0 {
					buf[n] = c | 0x20
					n++
				}
				j++
				continue
			}
			if c != 0xC3 || j+1 == len(w) || w[j+1]&0xC0 != 0x80 {
				break
			}
			n += copy(buf[n:], latin1Fold[w[j+1]&0x3F])
			j += 2
		}
		if j == len(w) || n >= maxPrefixInput {
			start := len(dst)
			var last int
			dst, last = translitFolded(dst, buf[:n], max)
			if j == len(w) || len(dst)-start >= max && last+lookahead[buf[last]] <= n {
				return dst
			}
			dst = dst[:start]
		}
	}
	var tmp [96]byte
	if max < 0 || len(w) <= maxPrefixInput {
		dst, _ = translitFolded(dst, appendFold(tmp[:0], w), max)
		return dst
	}
	// A few letters make the first bytes of a key: fold only the start of a
	// long word, unless the last pattern read may run past the cut.
	k := maxPrefixInput
	for k > 0 && !utf8.RuneStart(w[k]) {
		k--
	}
	f := appendFold(tmp[:0], w[:k])
	start := len(dst)
	dst, last := translitFolded(dst, f, max)
	if len(dst)-start < max || last+lookahead[f[last]] > len(f) {
		dst, _ = translitFolded(dst[:start], appendFold(tmp[:0], w), max)
	}
	return dst
}

// latin1Fold is foldRune of U+00C0–U+00FF, by the low six bits of the
// second byte of their UTF-8 form.
var latin1Fold = func() (t [64]string) {
	for b := range t {
		t[b] = foldRune(rune(0xC0 + b))
	}
	return t
}()

// maxPrefixInput is how much of a word appendTranslitN folds for a short
// prefix.
const maxPrefixInput = 10

// lookahead is how many folded letters the spellings beginning with a letter
// read ("schtsch" from s, "tsch" from t, "ie" from i …); 1 for the others.
var lookahead = func() (t [256]int) {
	for c := range t {
		t[c] = 1
	}
	t['s'], t['t'] = 7, 4
	for _, c := range []byte("zckpjyi") {
		t[c] = 2
	}
	return t
}()

// translitFolded appends the mapped form of the folded word f to dst, at most
// max bytes (max < 0: all), and returns where the last pattern it read began.
func translitFolded(dst, f []byte, max int) ([]byte, int) {
	start := len(dst)
	if max >= 0 {
		max += start
	} else {
		max = int(^uint(0) >> 1)
	}
	var prev byte // last byte emitted, 0 at the start
	emit := func(c byte) {
		if prev != c {
			dst = append(dst, c)
			prev = c
		}
	}
	last := 0
	for i := 0; i < len(f) && len(dst) < max; {
		last = i
		c := f[i]
		rest := f[i:]
		switch c {
		case 's':
			switch {
			case hasPrefix(rest, "schtsch"):
				emit('S')
				emit('C')
				i += 7
			case hasPrefix(rest, "shch"):
				emit('S')
				emit('C')
				i += 4
			case hasPrefix(rest, "sch"):
				emit('S')
				i += 3
			case hasPrefix(rest, "sh"):
				emit('S')
				i += 2
			default:
				emit('s')
				i++
			}
		case 't':
			switch {
			case hasPrefix(rest, "tsch"):
				emit('C')
				i += 4
			case hasPrefix(rest, "tch"):
				emit('C')
				i += 3
			case hasPrefix(rest, "ts"), hasPrefix(rest, "tz"):
				emit('s')
				i += 2
			default:
				emit('t')
				i++
			}
		case 'z':
			if hasPrefix(rest, "zh") {
				emit('S')
				i += 2
			} else {
				emit('s')
				i++
			}
		case 'c':
			switch {
			case hasPrefix(rest, "ch"):
				emit('C')
				i += 2
			case hasPrefix(rest, "ck"):
				emit('k')
				i += 2
			default:
				emit('k')
				i++
			}
		case 'k':
			if hasPrefix(rest, "kh") {
				emit('C')
				i += 2
			} else {
				emit('k')
				i++
			}
		case 'x':
			emit('k')
			emit('s')
			i++
		case 'q':
			emit('k')
			i++
		case 'w', 'v':
			emit('v')
			i++
		case 'j', 'y', 'i':
			// A glide before e at the start or after a vowel is how one
			// scheme writes what another leaves out: Jelzin, Yeltsin, Eltsin.
			if i+1 < len(f) && f[i+1] == 'e' && (len(dst) == start || isVowel(prev)) {
				i++
				continue
			}
			emit('i')
			i++
		case 'p':
			if hasPrefix(rest, "ph") {
				emit('f')
				i += 2
			} else {
				emit('p')
				i++
			}
		default:
			if c >= 'a' && c <= 'z' {
				emit(c)
			}
			i++
		}
	}
	return dst, last
}

// finishKey folds the Slavic surname endings of the word key in dst[from:]:
// -ov, -ev, -iev (Lawrow, Lavrov, Alijew, Aliyev, Sergejew, Sergeev) become
// '@', and their feminine forms '@a'.
func finishKey(dst []byte, from int) []byte {
	k := dst[from:]
	fem := false
	end := len(k)
	if end > 0 && k[end-1] == 'a' {
		fem = true
		end--
	}
	if end < 2 || k[end-1] != 'v' || (k[end-2] != 'o' && k[end-2] != 'e') {
		return dst
	}
	stem := end - 2
	for stem > 0 && (k[stem-1] == 'i' || k[stem-1] == 'e') {
		stem--
	}
	if stem < 2 {
		return dst
	}
	dst = dst[:from+stem]
	dst = append(dst, '@')
	if fem {
		dst = append(dst, 'a')
	}
	return dst
}

func isVowel(c byte) bool {
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

// appendFold appends w lower-cased, with diacritics removed and Cyrillic
// romanized, as ASCII letters.
func appendFold(dst []byte, w string) []byte {
	for i := 0; i < len(w); {
		c := w[i]
		if c < utf8.RuneSelf {
			if asciiLetter[c] != 0 {
				dst = append(dst, c|0x20)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(w[i:])
		i += size
		dst = append(dst, foldRune(r)...)
	}
	return dst
}

// foldRune maps one non-ASCII letter to ASCII; marks and unknown runes vanish.
func foldRune(r rune) string {
	switch r {
	case 'à', 'á', 'â', 'ã', 'ä', 'å', 'ā', 'ă', 'ą', 'À', 'Á', 'Â', 'Ã', 'Ä', 'Å', 'Ā', 'Ă', 'Ą', 'ə', 'Ə':
		return "a"
	case 'æ', 'Æ':
		return "ae"
	case 'ç', 'č', 'ć', 'Ç', 'Č', 'Ć':
		return "ch"
	case 'ď', 'đ', 'Ď', 'Đ':
		return "d"
	case 'è', 'é', 'ê', 'ë', 'ē', 'ė', 'ę', 'ě', 'È', 'É', 'Ê', 'Ë', 'Ē', 'Ė', 'Ę', 'Ě':
		return "e"
	case 'ğ', 'Ğ', 'ģ':
		return "g"
	case 'ì', 'í', 'î', 'ï', 'ī', 'ı', 'į', 'Ì', 'Í', 'Î', 'Ï', 'Ī', 'İ', 'Į', 'ĭ':
		return "i"
	case 'ķ':
		return "k"
	case 'ł', 'ľ', 'ļ', 'Ł', 'Ľ', 'Ļ':
		return "l"
	case 'ñ', 'ń', 'ň', 'ņ', 'Ñ', 'Ń', 'Ň':
		return "n"
	case 'ò', 'ó', 'ô', 'õ', 'ö', 'ø', 'ō', 'ő', 'Ò', 'Ó', 'Ô', 'Õ', 'Ö', 'Ø', 'Ō', 'Ő':
		return "o"
	case 'œ', 'Œ':
		return "oe"
	case 'ř', 'Ř':
		return "r"
	case 'ś', 'Ś':
		return "s"
	case 'ş', 'š', 'ș', 'Ş', 'Š', 'Ș':
		return "sh"
	case 'ß':
		return "ss"
	case 'ţ', 'ț', 'ť', 'Ţ', 'Ț', 'Ť':
		return "ts"
	case 'ù', 'ú', 'û', 'ü', 'ū', 'ů', 'ű', 'ų', 'ў', 'Ù', 'Ú', 'Û', 'Ü', 'Ū', 'Ů', 'Ű', 'Ų', 'Ў':
		return "u"
	case 'ý', 'ÿ', 'Ý':
		return "y"
	case 'ž', 'ż', 'ź', 'Ž', 'Ż', 'Ź':
		return "zh"
	case 'ё', 'Ё':
		return "yo"
	}
	if r >= 'А' && r <= 'я' {
		return cyrillicLatin((r - 'А') % 32)
	}
	switch r {
	case 'і', 'І':
		return "i"
	case 'ї', 'Ї':
		return "yi"
	case 'є', 'Є':
		return "ye"
	case 'ґ', 'Ґ':
		return "g"
	}
	return ""
}

// cyrillicLatin romanizes the i-th letter of а…я.
func cyrillicLatin(i rune) string {
	const table = "a b v g d e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya"
	n := rune(0)
	start := 0
	for j := 0; j <= len(table); j++ {
		if j == len(table) || table[j] == ' ' {
			if n == i {
				if w := table[start:j]; w != "-" {
					return w
				}
				return ""
			}
			n++
			start = j + 1
		}
	}
	return ""
}

// start3 holds, for every word that begins with an ASCII capital and two
// lower-case ASCII letters, the first three bytes of its transliteration
// where those three letters alone decide them (whatever follows), by the
// letters' index; zero where they do not. Made once, on first use.
var start3 struct {
	once  sync.Once
	table *[26 * 26 * 26][3]byte
}

// translitStart returns the first three bytes of w's transliteration when
// w's first three letters decide them.
func translitStart(w string) ([3]byte, bool) {
	if len(w) < 3 {
		return [3]byte{}, false
	}
	a, b, c := w[0]-'A', w[1]-'a', w[2]-'a'
	if a >= 26 || b >= 26 || c >= 26 {
		return [3]byte{}, false
	}
	start3.once.Do(makeStart3)
	t := start3.table[int(a)*26*26+int(b)*26+int(c)]
	return t, t[0] != 0
}

// spellings are the letter sequences translitFolded reads as one.
var spellings = []string{"schtsch", "shch", "sch", "sh", "tsch", "tch", "ts", "tz", "zh", "ch", "ck", "kh", "ph"}

// continuations are the ends of the spellings (chtsch, h, s …) and the e
// after a glide: the only letters after a word's third that can change what
// its first three map to.
var continuations = func() []string {
	seen := map[string]bool{"e": true}
	for _, p := range spellings {
		for k := 1; k < len(p); k++ {
			seen[p[k:]] = true
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	return out
}()

// openEnded reports whether what follows the letters f can change how they
// map: an end of f begins a longer spelling, or f ends in a glide that an e
// would drop.
func openEnded(f []byte) bool {
	switch f[len(f)-1] {
	case 'j', 'y', 'i':
		return true
	}
	for i := range f {
		for _, p := range spellings {
			if len(p) > len(f)-i && p[:len(f)-i] == string(f[i:]) {
				return true
			}
		}
	}
	return false
}

// makeStart3 fills start3: a three-letter start decides its mapping's first
// three bytes when it maps to at least three by itself and, where it is
// open-ended, to the same three followed by each continuation.
func makeStart3() {
	t := new([26 * 26 * 26][3]byte)
	var f, alone, with []byte
	for i := range t {
		f = append(f[:0], 'a'+byte(i/676), 'a'+byte(i/26%26), 'a'+byte(i%26))
		alone, _ = translitFolded(alone[:0], f, -1)
		if len(alone) < 3 {
			continue
		}
		decided := true
		if openEnded(f) {
			for _, c := range continuations {
				with, _ = translitFolded(with[:0], append(f[:3], c...), -1)
				if len(with) < 3 || string(with[:3]) != string(alone[:3]) {
					decided = false
					break
				}
			}
		}
		if decided {
			t[i] = [3]byte(alone[:3])
		}
	}
	start3.table = t
}
