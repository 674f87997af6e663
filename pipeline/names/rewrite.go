package names

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/dewire/dewire/pipeline/article"
)

// Policy says what happens to a contested place name (Stepanakert for Khankendi).
type Policy string

// Contested-name policies.
const (
	// Canonical rewrites a contested name to the canonical form.
	Canonical Policy = "canonical"
	// Keep leaves a contested name as written.
	Keep Policy = "keep"
	// CanonicalFirstMention rewrites to the canonical form and adds the other
	// name in parentheses at the entity's first mention: "Chankendi (Stepanakert)".
	CanonicalFirstMention Policy = "canonical-first-mention"
)

// Edit rules and flag codes this package uses.
const (
	RuleCanonical = "names.canonical"  // a variant spelling became the canonical press form
	RuleFirstName = "names.first_name" // a wrong first name before a known surname was corrected
	RuleContested = "names.contested"  // a contested name was handled by the desk's policy
	RuleUnify     = "names.unify"      // an unknown name spelled two ways became one spelling
	RuleFeminine  = "names.feminine"   // a woman's surname took the press form derived from a gazetteer surname

	FlagAmbiguous   = "names.ambiguous"    // a surname fits several entities and the first name fits none
	FlagEnglishForm = "names.english_form" // German text keeps the English form of a name it does not transliterate
	FlagSpelling    = "names.spelling"     // an unknown name is spelled two ways and neither follows the convention
	FlagFirstName   = "names.first_name"   // a known surname with another first name: maybe a relative or a namesake
	FlagUnsure      = "names.unsure"       // a name edit below the confidence threshold, left as a suggestion
)

// MinConfidence is the confidence a name edit needs; below it the edit
// becomes a flag carrying the suggestion.
const MinConfidence = 0.7

// Options configure a Rewriter.
type Options struct {
	Lang      string // "de" or "en": the language of the text and of the forms written
	Contested Policy // default Canonical
}

// Rewriter finds the gazetteer's entities in an article's text and rewrites
// every mention to the canonical press form of the text's language. It is
// safe for concurrent use.
type Rewriter struct {
	g       *Gazetteer
	lang    string
	policy  Policy
	scratch sync.Pool // *scratch, the buffers of one Rewrite call
}

// NewRewriter returns a Rewriter over g for the language in opt.
func NewRewriter(g *Gazetteer, opt Options) (*Rewriter, error) {
	if g == nil {
		return nil, fmt.Errorf("names: nil gazetteer")
	}
	if opt.Lang != "de" && opt.Lang != "en" {
		return nil, fmt.Errorf("names: unsupported language %q (want de or en)", opt.Lang)
	}
	switch opt.Contested {
	case "":
		opt.Contested = Canonical
	case Canonical, Keep, CanonicalFirstMention:
	default:
		return nil, fmt.Errorf("names: unknown contested-name policy %q (want canonical, keep or canonical-first-mention)", opt.Contested)
	}
	return &Rewriter{g: g, lang: opt.Lang, policy: opt.Contested}, nil
}

// Result is what Rewrite found and changed. Edits carry Field but no Stage;
// offsets refer to the field's text just before each edit, edits of a field
// are in application order.
type Result struct {
	Edits    []article.Edit
	Flags    []article.Flag
	Entities []article.Entity
}

// Text rewrites one text as an article with a single field named "text".
func (rw *Rewriter) Text(s string) (string, Result) {
	f := []article.Field{{Name: "text", Text: &s}}
	res := rw.Rewrite(f)
	return s, res
}

type token struct {
	start, end int
	upper      bool
}

type matchKind uint8

const (
	kindFull       matchKind = iota // a whole declared form
	kindGivenOK                     // surname with the entity's own (maybe misspelled) first name
	kindGivenWrong                  // surname with another first name
	kindBare                        // surname alone
	kindFeminine                    // the feminine form of a known surname: another person
)

type match struct {
	field      int
	first      int // token index where the match starts
	start, end int // bytes replaced; a kept genitive -s lies after end
	tokEnd     int // end of the last token
	f          *form
	ents       []*entry // candidate entities, best first
	kind       matchKind
	inflected  bool
	ambiguous  bool
}

type cand struct {
	f         *form
	cut       int // bytes at the end of the token kept as an inflection (genitive s)
	inflected bool
	feminine  bool
}

// scratch holds the buffers of one Rewrite call.
type scratch struct {
	key   []byte
	key2  []byte
	cands []cand
	toks  []token
	// suspects are the key hashes of capitalised words of five letters or
	// more that matched nothing and are spelled the other language's way;
	// unknown are the words that matched nothing and share such a key.
	// Both serve unification.
	unknown  []unknownWord
	suspects map[uint64]bool
	prefixes map[[4]byte]int // markSuspects: a key start's first word, or shared
	shared   []bool          // markSuspects: the word shares its key start with another spelling
}

type unknownWord struct {
	field, start, end int
	key               uint64  // hash of the key; set for suspects and kept words
	prefix            [3]byte // the first letters of the key
	plen              uint8
}

// hashKey is FNV-1a over a key.
func hashKey(k []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range k {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// Rewrite finds and rewrites names in the fields, in place, treating them as
// one article (reading order matters for first mentions).
func (rw *Rewriter) Rewrite(fields []article.Field) Result {
	sc, _ := rw.scratch.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	defer rw.putScratch(sc)
	var res Result
	var matches [][]match
	for fi, fl := range fields {
		ms := rw.scan(sc, fi, *fl.Text, nil)
		if len(ms) > 0 && matches == nil {
			matches = make([][]match, len(fields))
		}
		if ms != nil {
			matches[fi] = ms
		}
	}
	rw.markSuspects(sc, fields)
	var unify map[uint64][]string
	if len(sc.suspects) > 0 {
		rw.collectUnknown(sc, fields)
		unify = rw.unifyGroups(sc, fields, &res)
	}
	if matches == nil && len(unify) == 0 {
		return res
	}
	if matches == nil {
		matches = make([][]match, len(fields))
	}
	rw.apply(fields, matches, sc, unify, &res)
	return res
}

// putScratch returns sc to the pool, dropping what refers to the text.
func (rw *Rewriter) putScratch(sc *scratch) {
	sc.unknown = sc.unknown[:0]
	sc.suspects = nil
	sc.toks = sc.toks[:0]
	sc.cands = sc.cands[:0]
	rw.scratch.Put(sc)
}

func isWordRune(r rune) bool {
	switch {
	case r < utf8.RuneSelf:
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	case r < 0x100:
		return unicode.IsLetter(r)
	case r >= 0x2000 && r <= 0x206F:
		return false // general punctuation: dashes, quotation marks, spaces
	}
	return unicode.IsLetter(r) || unicode.Is(unicode.Mn, r)
}

// asciiLetter classes ASCII bytes: 1 lower-case letter, 2 upper-case letter.
var asciiLetter = func() (t [utf8.RuneSelf]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = 1, 2
	}
	return t
}()

// tokenize appends the words of s to dst.
func tokenize(dst []token, s string) []token {
	n := len(s)
	i := 0
	for i < n {
		// Outside a word: skip ASCII that is not a letter.
		c := s[i]
		if c < utf8.RuneSelf {
			cl := asciiLetter[c]
			if cl == 0 {
				i++
				continue
			}
			start, upper := i, cl == 2
			i++
			i = wordEnd(s, i)
			dst = append(dst, token{start, i, upper})
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += size
			continue
		}
		start, upper := i, unicode.IsUpper(r)
		i = wordEnd(s, i+size)
		dst = append(dst, token{start, i, upper})
	}
	return dst
}

// nextCapitalised returns the first word at or after i that begins with an
// upper-case letter, and where to look for the next; a zero token when there
// is none. It finds the same capitalised words as tokenize.
func nextCapitalised(s string, i int) (token, int) {
	n := len(s)
	for i < n {
		// Skip eight bytes at a time while they hold no upper-case ASCII
		// letter and no other rune.
		for i+8 <= n {
			x := load64(s, i)
			t := x & 0x7F7F7F7F7F7F7F7F
			upper := (0xDADADADADADADADA - t) & (t + 0x3F3F3F3F3F3F3F3F) // lanes 'A'…'Z'
			if m := (x | upper) & 0x8080808080808080; m != 0 {
				i += bits.TrailingZeros64(m) / 8 // the first such byte
				break
			}
			i += 8
		}
		if i >= n {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c-'A' >= 26 {
				i++
				continue
			}
			if i > 0 && inWord(s, i) {
				i = wordEnd(s, i+1)
				continue
			}
			end := wordEnd(s, i+1)
			return token{i, end, true}, end
		}
		if c == 0xC3 && i+1 < n && latin1Letter(s[i+1]) && s[i+1] >= 0x9F {
			i = wordEnd(s, i+2) // a lower-case letter: ä, ö, ü, ß, é …
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += size
			continue
		}
		if i > 0 && inWord(s, i) || !unicode.IsUpper(r) {
			i = wordEnd(s, i+size)
			continue
		}
		end := wordEnd(s, i+size)
		return token{i, end, true}, end
	}
	return token{}, n
}

// latin1Letter reports whether 0xC3 followed by b is a letter of U+00C0–U+00FF
// (all but × and ÷); from 0x9F on (ß, à …) they are lower case.
func latin1Letter(b byte) bool {
	return b >= 0x80 && b <= 0xBF && b != 0x97 && b != 0xB7
}

// load64 reads s[i:i+8] as a little-endian word.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// inWord reports whether the rune before s[i] is part of a word.
func inWord(s string, i int) bool {
	if c := s[i-1]; c < utf8.RuneSelf {
		return asciiLetter[c] != 0
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return isWordRune(r)
}

// wordEnd returns where the word running on at s[i] ends.
func wordEnd(s string, i int) int {
	for i < len(s) {
		// Eight lower-case ASCII letters at a time.
		for i+8 <= len(s) {
			x := load64(s, i)
			t := x & 0x7F7F7F7F7F7F7F7F
			lower := (0xFAFAFAFAFAFAFAFA - t) & (t + 0x1F1F1F1F1F1F1F1F) // lanes 'a'…'z'
			if m := (x | ^lower) & 0x8080808080808080; m != 0 {
				i += bits.TrailingZeros64(m) / 8 // the first other byte
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if asciiLetter[c] == 0 {
				return i
			}
			i++
			continue
		}
		if c == 0xC3 && i+1 < len(s) && latin1Letter(s[i+1]) {
			i += 2
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			return i
		}
		i += size
	}
	return i
}

// scan finds the entity mentions of one field. It visits the capitalised
// words only and splits the whole field into words when one of them may be
// a name.
func (rw *Rewriter) scan(sc *scratch, fi int, s string, out []match) []match {
	var toks []token
	var prot spans
	protDone := false
	for t, next := nextCapitalised(s, 0); t.end > 0; t, next = nextCapitalised(s, next) {
		w := s[t.start:t.end]
		sc.cands = rw.candidates(sc, sc.cands[:0], w)
		if len(sc.cands) > 0 {
			if !protDone {
				prot, protDone = protectedSpans(s), true
			}
			if prot.has(t.start, t.end) {
				continue // an address, a handle or a title keeps its spelling
			}
		}
		if len(sc.cands) == 0 {
			if len(w) >= 5 && !allUpper(w) {
				// candidates left the first letters of w's key in sc.key2.
				// Whether it is spelled the other language's way is asked
				// later, and only if another word shares its key's start.
				u := unknownWord{field: fi, start: t.start, end: t.end}
				u.plen = uint8(copy(u.prefix[:], sc.key2))
				foldVariants(u.prefix[:u.plen])
				sc.unknown = append(sc.unknown, u)
			}
			continue
		}
		if toks == nil {
			sc.toks = tokenize(sc.toks[:0], s)
			toks = sc.toks
		}
		m, ok := rw.best(sc, s, toks, tokIndexOf(toks, t.start))
		if !ok {
			continue
		}
		m.field = fi
		// A longer match that swallows the previous one replaces it.
		for len(out) > 0 && m.first <= tokIndexOf(toks, out[len(out)-1].start) {
			out = out[:len(out)-1]
		}
		if len(out) > 0 && m.start < out[len(out)-1].tokEnd {
			continue
		}
		out = append(out, m)
	}
	return out
}

// markSuspects finds, of the words that matched nothing, the suspects:
// those spelled the other language's way. Only a word whose key starts
// like that of another, differently spelled word can be one spelling of a
// name written two ways, so the others are not examined.
func (rw *Rewriter) markSuspects(sc *scratch, fields []article.Field) {
	n := len(sc.unknown)
	if n < 2 {
		return
	}
	text := func(u *unknownWord) string { return (*fields[u.field].Text)[u.start:u.end] }
	start := func(u *unknownWord) [4]byte { return [4]byte{u.prefix[0], u.prefix[1], u.prefix[2], u.plen} }
	sc.shared = append(sc.shared[:0], make([]bool, n)...)
	if n <= 32 {
		// Few words: compare each pair.
		for i := 1; i < n; i++ {
			for j := range i {
				a, b := &sc.unknown[i], &sc.unknown[j]
				if start(a) == start(b) && text(a) != text(b) {
					sc.shared[i], sc.shared[j] = true, true
				}
			}
		}
	} else {
		if sc.prefixes == nil {
			sc.prefixes = map[[4]byte]int{}
		}
		clear(sc.prefixes)
		const shared = -1 // two spellings start like this
		for i := range sc.unknown {
			u := &sc.unknown[i]
			switch j, ok := sc.prefixes[start(u)]; {
			case !ok:
				sc.prefixes[start(u)] = i
			case j != shared && text(&sc.unknown[j]) != text(u):
				sc.prefixes[start(u)] = shared
			}
		}
		for i := range sc.unknown {
			sc.shared[i] = sc.prefixes[start(&sc.unknown[i])] == shared
		}
	}
	for i := range sc.unknown {
		u := &sc.unknown[i]
		if !sc.shared[i] {
			continue
		}
		w := text(u)
		if !foreignMarked(w, rw.lang) && !slavicLooking(w, rw.lang) {
			continue
		}
		if sc.suspects == nil {
			sc.suspects = map[uint64]bool{}
		}
		sc.key = foldVariants(appendKey(sc.key[:0], w))
		u.key = hashKey(sc.key)
		sc.suspects[u.key] = true
	}
}

// collectUnknown keeps, of the words that matched nothing, those that share
// a key with a suspect; the first key letters rule out most of them.
func (rw *Rewriter) collectUnknown(sc *scratch, fields []article.Field) {
	var prefixes prefixSet
	for _, u := range sc.unknown {
		if sc.suspects[u.key] {
			prefixes.add(u.prefix[:u.plen])
		}
	}
	kept := sc.unknown[:0]
	for _, u := range sc.unknown {
		if !prefixes.has(u.prefix[:u.plen]) {
			continue
		}
		sc.key = foldVariants(appendKey(sc.key[:0], (*fields[u.field].Text)[u.start:u.end]))
		if u.key = hashKey(sc.key); sc.suspects[u.key] {
			kept = append(kept, u)
		}
	}
	sc.unknown = kept
}

func tokIndexOf(toks []token, start int) int {
	i := sort.Search(len(toks), func(i int) bool { return toks[i].start >= start })
	return i
}

// candidates lists the forms whose last word matches the word w.
func (rw *Rewriter) candidates(sc *scratch, dst []cand, w string) []cand {
	g := rw.g
	if g.words.may(w) {
		for _, f := range g.exact[w] {
			dst = append(dst, cand{f: f})
		}
	}
	genitive := w[len(w)-1] == 's' && len(w) >= 3
	if len(w) < 5 || allUpper(w) {
		// Short words and acronyms must match a declared form exactly.
		if len(dst) == 0 && genitive && len(w) >= 4 && !allUpper(w) {
			dst = rw.exactGenitive(dst, w)
		}
		return dst
	}
	// The first key letters decide whether a transliterated entity can match;
	// for most words the first three letters of the word decide them.
	if t, ok := translitStart(w); ok && !g.prefixes.has(t[:]) {
		sc.key2 = append(sc.key2[:0], t[:]...)
		if len(dst) == 0 && genitive {
			dst = rw.exactGenitive(dst, w)
		}
		return dst
	}
	sc.key2 = appendTranslitN(sc.key2[:0], w, 4)
	if !g.mayKey(sc.key2) {
		// No transliterated entity starts like this word: only an exact
		// genitive (Bidens, Merkels) can still match.
		if len(dst) == 0 && genitive {
			dst = rw.exactGenitive(dst, w)
		}
		return dst
	}
	m := appendTranslit(sc.key2[:0], w)
	sc.key2 = m
	sc.key = finishKey(append(sc.key[:0], m...), 0)
	for _, f := range g.keyed[string(sc.key)] {
		dst = appendCand(dst, cand{f: f})
	}
	if len(dst) > 0 {
		return dst
	}
	// German genitive: Putins, Lawrows, Aliyevs.
	if genitive {
		stem := w[:len(w)-1]
		dst = rw.exactGenitive(dst, w)
		sc.key = appendKey(sc.key[:0], stem)
		for _, f := range g.keyed[string(sc.key)] {
			dst = appendCand(dst, cand{f: f, cut: 1})
		}
		if len(dst) > 0 {
			return dst
		}
	}
	// A woman's surname (Lawrowa, Nawalnaja, Selenska) is her own form, never
	// the man's: it is matched to the surname it derives from and rewritten
	// only to that surname's feminine press form.
	if dst = rw.feminineCands(sc, dst, m); len(dst) > 0 {
		return dst
	}
	// Russian case endings leaked through translation (Shushi, Putinu): only
	// on the surname of a known person (-u, -e, -om, -ym/-im; never -i, so
	// "Alevi" is not "Aliyev", and never -a, the feminine), or a place whose
	// name ends in -a.
	for _, e := range [...]string{"om", "im", "ym", "oi", "ei", "a", "u", "e", "i"} {
		if len(m) < len(e)+3 || string(m[len(m)-len(e):]) != e {
			continue
		}
		stem := m[:len(m)-len(e)]
		if len(stem) >= 4 && e != "i" && e != "oi" && e != "ei" && e != "a" {
			sc.key = finishKey(append(sc.key[:0], stem...), 0)
			for _, f := range g.keyed[string(sc.key)] {
				if len(f.words) == 1 && f.surname && f.ent.bare {
					dst = appendCand(dst, cand{f: f, inflected: true})
				}
			}
		}
		if e != "a" {
			sc.key = finishKey(append(append(sc.key[:0], stem...), 'a'), 0)
			for _, f := range g.keyed[string(sc.key)] {
				if len(f.words) == 1 && f.ent.Kind == KindPlace {
					dst = appendCand(dst, cand{f: f, inflected: true})
				}
			}
		}
		if len(dst) > 0 {
			return dst
		}
	}
	return dst
}

// feminineCands adds the person surnames whose feminine form the
// transliterated word m is: -ova/-eva/-ina (Lavrova), -aya/-aja (Navalnaya,
// key "-aia" for masculine "-i"), Ukrainian -ska for -skyj.
func (rw *Rewriter) feminineCands(sc *scratch, dst []cand, m []byte) []cand {
	n := len(m)
	if n < 5 || m[n-1] != 'a' {
		return dst
	}
	var stems [2][]byte
	switch {
	case n >= 6 && string(m[n-3:]) == "aia":
		stems[0] = append(append([]byte(nil), m[:n-3]...), 'i')
	case string(m[n-3:]) == "ska":
		stems[0] = append(append([]byte(nil), m[:n-1]...), 'i')
	case string(m[n-3:n-1]) == "ov" || string(m[n-3:n-1]) == "ev" || string(m[n-3:n-1]) == "in":
		stems[0] = m[:n-1]
	}
	for _, st := range stems {
		if st == nil {
			continue
		}
		sc.key = finishKey(append(sc.key[:0], st...), 0)
		for _, f := range rw.g.keyed[string(sc.key)] {
			if len(f.words) == 1 && f.surname && f.ent.Kind == KindPerson && feminineOf(f.ent.surname.DE, f.ent.Country, "de") != "" {
				dst = appendCand(dst, cand{f: f, feminine: true})
			}
		}
	}
	return dst
}

// feminineOf derives the feminine press form of a masculine surname in the
// language by the transliteration's own rules (Lawrow → Lawrowa, Lavrov →
// Lavrova, Nawalny → Nawalnaja, Navalny → Navalnaya, Selenskyj → Selenska,
// Zelensky → Zelenska); "" when the surname has no such form (Paschinjan).
func feminineOf(surname, country, lang string) string {
	l := strings.ToLower(surname)
	switch {
	case strings.HasSuffix(l, "ow"), strings.HasSuffix(l, "ew"), strings.HasSuffix(l, "ov"), strings.HasSuffix(l, "ev"),
		strings.HasSuffix(l, "in"), strings.HasSuffix(l, "yn"):
		return surname + "a"
	}
	stem := ""
	for _, e := range []string{"skyj", "skyi", "skiy", "skij", "skyy", "sky", "ski", "skii"} {
		if strings.HasSuffix(l, e) {
			stem = surname[:len(surname)-len(e)+2] // keep "sk"
			break
		}
	}
	if stem == "" {
		for _, e := range []string{"yj", "ij", "iy", "yy", "y", "i"} {
			if strings.HasSuffix(l, e) && len(l) > len(e)+2 {
				stem = surname[:len(surname)-len(e)]
				break
			}
		}
	}
	if stem == "" {
		return ""
	}
	if country == "ua" {
		return stem + "a" // Selenska, Zelenska
	}
	if lang == "en" {
		return stem + "aya"
	}
	return stem + "aja"
}

// exactGenitive adds the forms written exactly as w without its genitive s.
func (rw *Rewriter) exactGenitive(dst []cand, w string) []cand {
	stem := w[:len(w)-1]
	if !rw.g.words.may(stem) {
		return dst
	}
	for _, f := range rw.g.exact[stem] {
		dst = append(dst, cand{f: f, cut: 1})
	}
	return dst
}

func allUpper(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= 'a' && c <= 'z' || c >= 0x80 {
			return false
		}
	}
	return true
}

func appendCand(dst []cand, c cand) []cand {
	for _, o := range dst {
		if o.f == c.f {
			return dst
		}
	}
	return append(dst, c)
}

// best picks the longest verified candidate ending at token i.
func (rw *Rewriter) best(sc *scratch, s string, toks []token, i int) (match, bool) {
	var m match
	bestScore := -1
	if len(sc.cands) > 0 && sc.cands[0].feminine {
		c := sc.cands[0]
		t := toks[i]
		return match{first: i, start: t.start, end: t.end, tokEnd: t.end, f: c.f, ents: []*entry{c.f.ent}, kind: kindFeminine}, true
	}
	for _, c := range sc.cands {
		f := c.f
		n := len(f.words)
		if n-1 > i {
			continue
		}
		ok := true
		for j := 0; j < n-1 && ok; j++ {
			t := toks[i-n+1+j]
			next := toks[i-n+2+j]
			if !separator(s[t.end:next.start]) {
				ok = false
				break
			}
			ok = rw.wordMatches(sc, s[t.start:t.end], f, j)
		}
		if !ok {
			continue
		}
		score := n * 4
		if !f.surname {
			score += 2
		}
		if f.role == roleCanonical {
			score++
		}
		first := i - n + 1
		switch {
		case score > bestScore:
			bestScore = score
			m = match{first: first, start: toks[first].start, end: toks[i].end - c.cut, tokEnd: toks[i].end, f: f, ents: []*entry{f.ent}, inflected: c.inflected}
		case score == bestScore && !containsEntry(m.ents, f.ent):
			m.ents = append(m.ents, f.ent)
			if f.ent.order < m.f.ent.order {
				m.f = f
			}
		}
	}
	if bestScore < 0 {
		return m, false
	}
	sort.Slice(m.ents, func(a, b int) bool { return m.ents[a].order < m.ents[b].order })
	if !m.f.surname {
		m.kind = kindFull
		m.ents = m.ents[:1]
		m.f = rw.formOf(m.f, m.ents[0])
		return m, true
	}
	// A surname: look at the word before it.
	m.kind = kindBare
	if m.first > 0 {
		p := toks[m.first-1]
		gap := s[p.end:toks[m.first].start]
		if p.upper && (gap == " " || gap == "\u00a0") {
			pw := s[p.start:p.end]
			sc.key = appendKey(sc.key[:0], pw)
			var own []*entry
			for _, e := range m.ents {
				if e.givenKeys[string(sc.key)] {
					own = append(own, e)
				}
			}
			switch {
			case len(own) > 0:
				m.kind = kindGivenOK
				m.ents = own[:1]
				m.first--
				m.start = p.start
			case rw.g.given[string(sc.key)] && m.f.ent.fuzzy:
				if len(m.ents) == 1 {
					m.kind = kindGivenWrong
					m.first--
					m.start = p.start
				} else {
					m.ambiguous = true
				}
			}
		}
	}
	if m.kind == kindBare {
		bare := m.ents[:0:0]
		for _, e := range m.ents {
			if e.bare {
				bare = append(bare, e)
			}
		}
		if len(bare) == 0 {
			return m, false
		}
		m.ents = bare
	}
	m.f = rw.formOf(m.f, m.ents[0])
	return m, true
}

// formOf returns f when it belongs to e, else e's form of the same shape.
func (rw *Rewriter) formOf(f *form, e *entry) *form {
	if f.ent == e {
		return f
	}
	c := *f
	c.ent = e
	return &c
}

func containsEntry(list []*entry, e *entry) bool {
	for _, o := range list {
		if o == e {
			return true
		}
	}
	return false
}

func (rw *Rewriter) wordMatches(sc *scratch, w string, f *form, j int) bool {
	if w == f.words[j] {
		return true
	}
	if !f.ent.fuzzy {
		return false
	}
	sc.key = appendKey(sc.key[:0], w)
	return string(sc.key) == f.keys[j]
}

// separator reports whether gap may stand between two words of one name.
func separator(gap string) bool {
	if gap == "" || len(gap) > 3 {
		return false
	}
	for _, c := range []byte(gap) {
		if c != ' ' && c != '-' && c != '.' && c != 0xc2 && c != 0xa0 {
			return false
		}
	}
	return true
}

// foreignMarked reports whether w has a spelling that the target language's
// press transcription would not use (English sh/kh/zh/-ov in German text,
// German sch/w/-ow/-j in English text).
func foreignMarked(w, lang string) bool {
	n := len(w)
	if n > 64 || n == 0 {
		return false
	}
	// w[i]|0x20 lower-cases an ASCII letter; the bytes of other runes keep
	// their high bit and so never equal a letter.
	if lang == "de" {
		for i := 1; i < n; i++ {
			if w[i]|0x20 != 'h' {
				continue
			}
			switch w[i-1] | 0x20 {
			case 'k', 'z':
				return true
			case 's':
				if i < 2 || w[i-2]|0x20 != 'c' {
					return true
				}
			}
		}
		if n >= 3 && w[n-3]|0x20 == 'd' && w[n-2]|0x20 == 'z' && w[n-1]|0x20 == 'e' {
			return true // Georgian -dze is -dse in German
		}
		for i := 1; i < n; i++ {
			if w[i]|0x20 == 'v' {
				return true // German writes w: Kowaltschuk, not Kovalchuk
			}
		}
		switch w[n-1] | 0x20 {
		case 'y':
			return true
		case 'v': // -ov, -ev
			return n >= 2 && (w[n-2]|0x20 == 'o' || w[n-2]|0x20 == 'e')
		case 'a': // -ova, -eva
			if n < 3 || w[n-2]|0x20 != 'v' {
				return false
			}
			p := w[n-3] | 0x20
			return p == 'o' || p == 'e'
		}
		return false
	}
	for i := 2; i < n; i++ {
		if w[i]|0x20 == 'h' && w[i-1]|0x20 == 'c' && w[i-2]|0x20 == 's' {
			return true
		}
	}
	if n >= 3 && w[n-3]|0x20 == 'd' && w[n-2]|0x20 == 's' && w[n-1]|0x20 == 'e' {
		return true // German -dse is -dze in English
	}
	for i := 1; i < n; i++ {
		if w[i]|0x20 == 'j' && w[i-1]|0x20 != 'd' || w[i]|0x20 == 'w' {
			return true // German j and w: Sergej, Tjahnybok, Kowal
		}
	}
	if n < 2 {
		return false
	}
	if w[0]|0x20 == 'w' && (w[1]|0x20 == 'l' || w[1]|0x20 == 'j') {
		return true
	}
	switch w[n-1] | 0x20 {
	case 'w': // -ow, -ew
		p := w[n-2] | 0x20
		return p == 'o' || p == 'e'
	case 'a': // -owa, -ewa
		if n < 3 || w[n-2]|0x20 != 'w' {
			return false
		}
		p := w[n-3] | 0x20
		return p == 'o' || p == 'e'
	case 'j': // -ij, -yj, -ej
		p := w[n-2] | 0x20
		return p == 'i' || p == 'y' || p == 'e'
	}
	return false
}

// foldVariants folds, in a key, the letters in-article unification treats
// as variants though the gazetteer's key keeps them apart: Ukrainian h and
// Russian g (Tjahnybok, Tjagnybok).
func foldVariants(k []byte) []byte {
	for i, c := range k {
		if c == 'h' {
			k[i] = 'g'
		}
	}
	return k
}

// sameKey reports whether the spellings share the transliteration key
// itself, not only the variant-folded one.
func sameKey(sp []string) bool {
	for _, w := range sp[1:] {
		if Key(w) != Key(sp[0]) {
			return false
		}
	}
	return true
}

// slavicLooking reports whether w has the look of a transliterated
// post-Soviet name beyond what foreignMarked sees (a German j inside, an
// English y before a vowel, a Ukrainian, Georgian or Armenian ending), so
// that a second spelling of it, differing in h and g, is looked for.
func slavicLooking(w, lang string) bool {
	n := len(w)
	for i := 1; i < n; i++ {
		c := w[i] | 0x20
		if lang == "de" && c == 'j' {
			return true
		}
		if lang == "en" && c == 'y' && i+1 < n && isVowel(w[i+1]|0x20) {
			return true
		}
	}
	for _, e := range slavicEndings {
		if n > len(e) && asciiFoldSuffix(w, e) {
			return true
		}
	}
	return false
}

// asciiFoldSuffix reports whether w ends in the lower-case ASCII e, ignoring case.
func asciiFoldSuffix(w, e string) bool {
	k := len(w) - len(e)
	for i := 0; i < len(e); i++ {
		if w[k+i]|0x20 != e[i] {
			return false
		}
	}
	return true
}

var slavicEndings = []string{"enko", "chuk", "yk", "yj", "yi", "iy", "dze", "dse", "vili", "wili", "yan", "jan",
	"ow", "ew", "ov", "ev"}

// nativeMarked reports whether w is spelled the target language's press way.
func nativeMarked(w, lang string) bool {
	if foreignMarked(w, lang) {
		return false
	}
	l := strings.ToLower(w)
	if lang == "de" {
		return strings.Contains(l, "sch") || strings.Contains(l, "w") || strings.HasSuffix(l, "ow") || strings.HasSuffix(l, "ew") ||
			strings.Contains(l, "j") || strings.HasSuffix(l, "dse")
	}
	return strings.Contains(l, "sh") || strings.Contains(l, "kh") || strings.Contains(l, "zh") || strings.Contains(l, "v") ||
		strings.Contains(l, "y") || strings.HasSuffix(l, "dze") || strings.Contains(l, "ch")
}

// unifyGroups finds unknown names spelled two ways and returns, per key
// hash, the chosen spelling followed by the spellings to rewrite.
func (rw *Rewriter) unifyGroups(sc *scratch, fields []article.Field, res *Result) map[uint64][]string {
	spellings := map[uint64][]string{}
	where := map[uint64][]article.Flag{} // the first mention of each spelling
	var order []uint64
	for _, u := range sc.unknown {
		if !sc.suspects[u.key] {
			continue
		}
		w := (*fields[u.field].Text)[u.start:u.end]
		if _, ok := spellings[u.key]; !ok {
			order = append(order, u.key)
		}
		if !containsString(spellings[u.key], w) {
			spellings[u.key] = append(spellings[u.key], w)
			where[u.key] = append(where[u.key], article.Flag{Field: fields[u.field].Name, Offset: u.start})
		}
	}
	out := map[uint64][]string{}
	for _, k := range order {
		sp := spellings[k]
		if len(sp) < 2 {
			continue
		}
		var good []string
		for _, w := range sp {
			if nativeMarked(w, rw.lang) {
				good = append(good, w)
			}
		}
		if !sameKey(sp) {
			good = nil // Ukrainian h and Russian g: no convention decides
		}
		if len(good) != 1 {
			// flag both: each spelling at its first mention
			for i, f := range where[k] {
				f.Code = FlagSpelling
				f.Message = fmt.Sprintf("check the spelling of %q: the article also writes %s, and the %s press convention does not decide between them; write one spelling throughout",
					sp[i], strings.Join(others(sp, i), ", "), rw.lang)
				res.Flags = append(res.Flags, f)
			}
			continue
		}
		group := []string{good[0]}
		for _, w := range sp {
			if w != good[0] {
				group = append(group, w)
			}
		}
		out[k] = group
	}
	return out
}

// others quotes the strings of list but the i-th.
func others(list []string, i int) []string {
	var out []string
	for j, s := range list {
		if j != i {
			out = append(out, fmt.Sprintf("%q", s))
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, o := range list {
		if o == s {
			return true
		}
	}
	return false
}

// flagKey identifies a flag raised once per article.
type flagKey struct{ code, what string }

type repl struct {
	start, end int
	after      string
	rule       string
	m          *match // nil for unify
	evidence   string
	confidence float64
	flag       article.Flag // Code "" for none; Offset is set where the text is written
	noEntity   bool         // the mention may be someone else: not recorded as the entity's
}

// apply decides every match's rewrite with the whole article in view and
// applies them field by field.
func (rw *Rewriter) apply(fields []article.Field, matches [][]match, sc *scratch, unify map[uint64][]string, res *Result) {
	// Resolve bare surnames to an entity named in full elsewhere in the article.
	named := map[*entry]bool{}
	contestedUsed := map[*entry]int{}
	ev := &evidence{fields: fields, givens: map[*entry][]string{}}
	for _, ms := range matches {
		for i := range ms {
			m := &ms[i]
			if m.kind != kindBare && m.kind != kindFeminine {
				named[m.ents[0]] = true
			}
			if m.kind == kindGivenOK || m.kind == kindGivenWrong || m.kind == kindFull && m.ents[0].Kind == KindPerson && len(m.f.words) > 1 {
				t := *fields[m.field].Text
				g := t[m.start:wordEnd(t, m.start)]
				if !containsString(ev.givens[m.ents[0]], g) {
					ev.givens[m.ents[0]] = append(ev.givens[m.ents[0]], g)
				}
			}
			if m.f.role == roleContested {
				if _, ok := contestedUsed[m.ents[0]]; !ok {
					contestedUsed[m.ents[0]] = m.f.contested
				}
			}
		}
	}
	for _, ms := range matches {
		for i := range ms {
			m := &ms[i]
			if m.kind == kindBare && len(m.ents) > 1 {
				for _, e := range m.ents {
					if named[e] {
						m.ents = []*entry{e}
						m.f = rw.formOf(m.f, e)
						break
					}
				}
			}
		}
	}
	seen := map[*entry]bool{}
	entIndex := map[*entry]int{}
	flagged := map[flagKey]bool{}
	for fi, fl := range fields {
		s := *fl.Text
		ms := matches[fi]
		var reps []repl
		for i := range ms {
			m := &ms[i]
			e := m.ents[0]
			first := !seen[e]
			seen[e] = true
			if m.ambiguous && !flagged[flagKey{FlagAmbiguous, s[m.start:m.tokEnd]}] {
				flagged[flagKey{FlagAmbiguous, s[m.start:m.tokEnd]}] = true
				reps = append(reps, repl{start: m.start, end: m.start, after: "", flag: article.Flag{Code: FlagAmbiguous, Field: fl.Name,
					Message: fmt.Sprintf("check who %q is: the surname fits several people in the gazetteer and the first name fits none of them", s[m.start:m.tokEnd])}})
			}
			if rw.keptEnglish(m, s[m.start:m.end]) {
				keep := repl{start: m.start, end: m.end, after: s[m.start:m.end], m: m}
				if k := (flagKey{FlagEnglishForm, e.ID}); !flagged[k] {
					flagged[k] = true // once per entity and article
					keep.flag = article.Flag{Code: FlagEnglishForm, Field: fl.Name, Suggestion: e.DE,
						Message: fmt.Sprintf("check %q: it is the English form; unless it is part of an English title or name, the German press form is %q", s[m.start:m.end], e.DE)}
				}
				reps = append(reps, keep)
				continue
			}
			d := rw.target(s, ms, i, first, contestedUsed, ev)
			keep := repl{start: m.start, end: m.end, after: s[m.start:m.end], m: m, noEntity: m.kind == kindFeminine}
			switch {
			case d.suggestion != "":
				// the edit is made and the flag suggests more
				r := repl{start: m.start, end: d.end, after: d.after, rule: d.rule, m: m, evidence: d.evidence, confidence: d.confidence, noEntity: true}
				if d.after == s[m.start:d.end] {
					r.rule = ""
				}
				r.flag = article.Flag{Code: d.flag, Field: fl.Name, Suggestion: d.suggestion,
					Message: fmt.Sprintf("check %q: %s; if it is %s, write %q", d.after, d.why, e.In("en"), d.suggestion)}
				reps = append(reps, r)
			case d.after == "" || d.after == s[m.start:d.end]:
				reps = append(reps, keep)
			case d.flag != "":
				keep.noEntity = true
				keep.flag = article.Flag{Code: d.flag, Field: fl.Name, Suggestion: d.after,
					Message: fmt.Sprintf("check %q: %s; suggested %q (%s, confidence %.2f)", s[m.start:d.end], d.why, d.after, d.evidence, d.confidence)}
				reps = append(reps, keep)
			default:
				reps = append(reps, repl{start: m.start, end: d.end, after: d.after, rule: d.rule, m: m,
					evidence: d.evidence, confidence: d.confidence, noEntity: m.kind == kindFeminine})
			}
		}
		if len(unify) > 0 {
			reps = append(reps, unifyRepls(s, fi, sc.unknown, unify, ms)...)
			sort.SliceStable(reps, func(a, b int) bool { return reps[a].start < reps[b].start })
		}
		if len(reps) == 0 {
			continue
		}
		var b strings.Builder
		b.Grow(len(s) + 16)
		prev := 0
		for _, r := range reps {
			b.WriteString(s[prev:r.start])
			off := b.Len()
			before := s[r.start:r.end]
			if r.rule != "" {
				res.Edits = append(res.Edits, article.Edit{Rule: r.rule, Field: fl.Name, Offset: off, Before: before, After: r.after,
					Evidence: r.evidence, Confidence: r.confidence})
			}
			if r.flag.Code != "" {
				r.flag.Offset = off
				res.Flags = append(res.Flags, r.flag)
			}
			b.WriteString(r.after)
			prev = r.end
			if r.m == nil || r.noEntity {
				continue
			}
			e := r.m.ents[0]
			idx, ok := entIndex[e]
			if !ok {
				idx = len(res.Entities)
				entIndex[e] = idx
				res.Entities = append(res.Entities, article.Entity{ID: e.ID, Kind: e.Kind, DE: e.DE, EN: e.EN})
			}
			mention := r.after
			if r.end < r.m.tokEnd {
				mention += s[r.end:r.m.tokEnd]
			}
			res.Entities[idx].Mentions = append(res.Entities[idx].Mentions, article.Mention{Field: fl.Name, Offset: off, Text: mention})
		}
		b.WriteString(s[prev:])
		out := b.String()
		if out != s {
			*fl.Text = out
		}
	}
}

// unifyRepls lists the rewrites of unknown names in field fi to their chosen
// spelling, leaving alone words inside an entity's mention.
func unifyRepls(s string, fi int, unknown []unknownWord, unify map[uint64][]string, ms []match) []repl {
	var out []repl
	mi := 0
	var prot spans
	protDone := false
	for _, u := range unknown {
		if u.field != fi {
			continue
		}
		g, ok := unify[u.key]
		if !ok || s[u.start:u.end] == g[0] {
			continue
		}
		if !protDone {
			prot, protDone = protectedSpans(s), true
		}
		if prot.has(u.start, u.end) {
			continue // an address, a handle or a title keeps its spelling
		}
		for mi < len(ms) && ms[mi].tokEnd <= u.start {
			mi++
		}
		if mi < len(ms) && ms[mi].start < u.end {
			continue
		}
		out = append(out, repl{start: u.start, end: u.end, after: g[0], rule: RuleUnify, confidence: 0.75,
			evidence: fmt.Sprintf("in-article unification by transliteration key: spelled %s; %q follows the press convention", strings.Join(g, ", "), g[0])})
	}
	return out
}

// keptEnglish reports whether m is the English canonical form of an entity
// whose name German does not transliterate (Kremlin, OSCE, Council of
// Europe). Professional German keeps such forms inside English titles and
// names of organisations, so they are flagged rather than rewritten; only
// the transliterated names of post-Soviet people and places are certain.
func (rw *Rewriter) keptEnglish(m *match, written string) bool {
	e := m.ents[0]
	if rw.lang != "de" || e.fuzzy || m.f.role != roleCanonical || isVariant(e, written) || strings.EqualFold(written, e.DE) {
		return false // a variant, or the German acronym in capitals (NATO, TASS), is accepted in German
	}
	en, de := e.EN, e.DE
	if m.f.surname {
		en, de = e.surname.EN, e.surname.DE
	}
	return m.f.text == en && en != de
}

// decision is what target chose for one match.
type decision struct {
	after, rule string // after "" keeps the name as written
	end         int
	evidence    string
	confidence  float64
	flag        string // a flag code: the edit is a suggestion only, unless suggestion is set
	why         string // the flag's reason
	suggestion  string // with flag: the edit is made and the flag suggests this further
}

// target decides what should replace match i from m.start to the returned
// end, with the edit's rule, evidence and confidence.
func (rw *Rewriter) target(s string, ms []match, i int, first bool, contestedUsed map[*entry]int, ev *evidence) decision {
	m := &ms[i]
	e := m.ents[0]
	lang := rw.lang
	d := decision{end: m.end}
	if m.f.role == roleVariant || explicitNaming(s, m.start, m.tokEnd) || isVariant(e, s[m.start:m.end]) {
		return d
	}
	if e.Kind != KindPerson && inOrgName(s, m.start, m.tokEnd) {
		return d // "Kyiv Post", "Radio Baku": an outlet keeps its name
	}
	if i > 0 && ms[i-1].ents[0] == e && parenthetical(s[ms[i-1].tokEnd:m.start]) {
		return d
	}
	written := s[m.start:m.end]
	how := "transliteration key"
	if written == m.f.text {
		how = "declared spelling"
	}
	d.confidence = 0.9
	if how == "declared spelling" {
		d.confidence = 0.95
	}
	canon := e.In(lang)
	switch {
	case m.kind == kindFeminine:
		fem := feminineOf(e.surname.In(lang), e.Country, lang)
		if fem == "" || Key(fem) != Key(written) {
			return decision{end: m.end}
		}
		d.after, d.rule, d.confidence = fem, RuleFeminine, 0.8
		d.evidence = fmt.Sprintf("feminine form of the surname of gazetteer entry %s (%s), derived by the %s transcription", e.ID, e.surname.In(lang), lang)
		return d
	case m.f.role == roleContested:
		if rw.policy == Keep {
			return d
		}
		d.after, d.rule, d.confidence = canon, RuleContested, 1
		d.evidence = fmt.Sprintf("gazetteer entry %s: contested name, desk policy %s", e.ID, rw.policy)
	case e.Kind != KindPerson || m.kind == kindGivenOK || m.kind == kindFull && !m.f.surname:
		d.after, d.rule = canon, RuleCanonical
		d.evidence = fmt.Sprintf("gazetteer entry %s by %s", e.ID, how)
	case m.kind == kindGivenWrong:
		d.after, d.rule = canon, RuleFirstName
		ge := wordEnd(s, m.start)
		given := s[m.start:ge]
		if why := ev.otherPerson(e, given); why != "" {
			// Maybe someone else: only the surname's spelling changes, the
			// first name stays, and the desk gets the full name as suggestion.
			d.flag, d.why, d.suggestion = FlagFirstName, why, canon
			d.after, d.rule, d.confidence = s[m.start:m.start+surnameStart(s, ge)-m.start]+e.surname.In(lang), RuleCanonical, 0.85
			d.evidence = fmt.Sprintf("surname spelling of gazetteer entry %s by %s; first name %q kept", e.ID, how, given)
			break
		}
		d.confidence = 0.8
		d.evidence = fmt.Sprintf("gazetteer entry %s: surname by %s, first name %q corrected; no relative or namesake in the article", e.ID, how, given)
	default:
		d.after, d.rule = e.surname.In(lang), RuleCanonical
		d.evidence = fmt.Sprintf("gazetteer entry %s: surname by %s", e.ID, how)
	}
	if m.inflected {
		d.confidence = 0.75
		d.evidence += ", Russian case ending dropped"
	}
	followedByAlt := i+1 < len(ms) && ms[i+1].ents[0] == e && parenthetical(s[m.tokEnd:ms[i+1].start])
	if ci, ok := contestedUsed[e]; ok && rw.policy == CanonicalFirstMention && first && !followedByAlt {
		d.after += s[m.end:m.tokEnd] + " (" + e.Contested[ci].In(lang) + ")"
		d.rule, d.end, d.confidence = RuleContested, m.tokEnd, 1
		d.evidence = fmt.Sprintf("gazetteer entry %s: contested name, desk policy %s", e.ID, rw.policy)
	}
	if d.confidence < MinConfidence && d.flag == "" {
		d.flag, d.why = FlagUnsure, "confidence below the threshold"
	}
	return d
}

// surnameStart returns where the surname begins after the first name ending
// at ge: past the gap of spaces.
func surnameStart(s string, ge int) int {
	for ge < len(s) && (s[ge] == ' ' || s[ge] == 0xC2 && ge+1 < len(s) && s[ge+1] == 0xA0) {
		if s[ge] == ' ' {
			ge++
		} else {
			ge += 2
		}
	}
	return ge
}

// evidence is what the whole article says about who is who: kinship words
// and the first names written before each known surname.
type evidence struct {
	fields []article.Field
	done   bool
	kin    string              // the first kinship word found, "" for none
	givens map[*entry][]string // first names seen before an entity's surname
}

// otherPerson reports why given + e's surname may be someone other than e:
// a relative mentioned in the article, two first names with the surname, or
// a first name unlike e's; "" when nothing suggests it.
func (ev *evidence) otherPerson(e *entry, given string) string {
	if !ev.done {
		ev.scan()
	}
	if ev.kin != "" {
		return fmt.Sprintf("the article speaks of relatives (%q): %q may be another person with the surname", ev.kin, given)
	}
	if gs := ev.givens[e]; len(gs) > 1 {
		return fmt.Sprintf("the surname comes with several first names (%s): namesakes or relatives", strings.Join(gs, ", "))
	}
	k := Key(given)
	for gk := range e.givenKeys {
		if commonPrefix(k, gk) >= 4 || (len(k) >= 3 && strings.HasPrefix(gk, k)) || (len(gk) >= 3 && strings.HasPrefix(k, gk)) {
			return ""
		}
	}
	return fmt.Sprintf("first name %q is not a spelling of %s's: maybe another person with the surname", given, e.In("en"))
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// scan reads the article once for kinship words.
func (ev *evidence) scan() {
	ev.done = true
	for _, f := range ev.fields {
		s := *f.Text
		for i := 0; i < len(s); {
			j := wordEnd(s, i)
			if j == i {
				_, size := utf8.DecodeRuneInString(s[i:])
				i += size
				continue
			}
			if w := s[i:j]; len(w) >= 3 && len(w) <= 14 && kinWords[strings.ToLower(w)] {
				ev.kin = w
				return
			}
			i = j
		}
	}
}

// kinWords say that relatives or namesakes of a person appear in the text.
var kinWords = setOf("sohn", "sohnes", "söhne", "tochter", "töchter", "bruder", "bruders", "brüder", "schwester",
	"ehefrau", "gattin", "ehemann", "gatte", "witwe", "witwer", "vater", "vaters", "mutter", "neffe", "nichte",
	"cousin", "cousine", "onkel", "tante", "enkel", "enkelin", "schwiegersohn", "schwiegervater", "schwager",
	"namensvetter", "verwandt", "verwandte", "verwandter", "familie", "frau",
	"son", "sons", "daughter", "daughters", "brother", "brothers", "sister", "sisters", "wife", "husband", "widow",
	"father", "mother", "nephew", "niece", "uncle", "aunt", "grandson", "granddaughter", "namesake", "related",
	"relative", "relatives", "family", "mrs")

// isVariant reports whether text is written exactly as one of e's accepted variants.
func isVariant(e *entry, text string) bool {
	for _, v := range e.Variants {
		if v == text {
			return true
		}
	}
	return false
}

// parenthetical reports whether gap opens a parenthesis right after a name.
func parenthetical(gap string) bool {
	return gap == " (" || gap == "(" || gap == "\u00a0("
}

// explicitNaming reports whether the words around a name show that the text
// talks about the name itself ("die die Armenier Schuschi nennen",
// "known as Shushi", "auch Schuschi genannt", "(armenisch: Stepanakert)"),
// which is never rewritten. A naming verb counts only where it names: "X
// nannte die Vorwürfe absurd" and "X bezeichnete Y als …" are statements by
// X, not about X's name.
func explicitNaming(s string, start, end int) bool {
	if glossContext(s, start) {
		return true
	}
	before := lastWords(s[:start], 3)
	final := clauseEnds(s, end)
	for i, w := range before {
		switch w {
		case "sogenannt", "sogenannte", "sogenannten", "sogenannter", "sogenanntes", "so-called", "genannte", "genannten":
			return true
		case "namens", "genannt", "named":
			if i == 0 {
				return true
			}
		case "call", "calls", "called", "nennen", "nennt", "nannten", "nannte", "heißt", "hieß", "heißen", "name", "names":
			// "die Armenier nennen die Stadt Stepanakert." names; "Putin
			// nannte Paschinjan einen Verräter" does not.
			if final {
				return true
			}
		case "as":
			if i == 0 && len(before) > 1 && (before[1] == "known" || before[1] == "referred" || before[1] == "also") {
				return true
			}
		case "als":
			if i == 0 && len(before) > 1 && (before[1] == "auch" || before[1] == "bezeichnet" || before[1] == "bekannt") {
				return true
			}
		}
	}
	rest := s[end:min(len(s), end+64)]
	after := firstWords(rest, 2)
	for i, w := range after {
		switch w {
		case "genannt", "heißt", "hieß":
			return true
		case "nennen", "nennt", "nannten", "nannte", "bezeichnen", "bezeichnet", "bezeichnete", "bezeichneten":
			// verb-final: "…, die Aserbaidschan als Chankendi bezeichnet,"
			if k := strings.Index(rest, w); k >= 0 && clauseEnds(rest, k+len(w)) && i <= 1 {
				return true
			}
		}
	}
	// A name standing alone in quotation marks is being talked about.
	if start > 0 && end < len(s) {
		r1, _ := utf8.DecodeLastRuneInString(s[:start])
		r2, _ := utf8.DecodeRuneInString(s[end:])
		if isQuote(r1) && isQuote(r2) {
			return true
		}
	}
	return false
}

// clauseEnds reports whether the clause ends at s[i:] (after spaces):
// punctuation, a closing mark, an opening parenthesis or the end.
func clauseEnds(s string, i int) bool {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i >= len(s) {
		return true
	}
	switch s[i] {
	case ',', '.', ';', ':', '!', '?', ')', '(', '"':
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return isQuote(r) || r == '–' || r == '—'
}

func isQuote(r rune) bool {
	switch r {
	case '"', '„', '“', '”', '«', '»', '‚', '‘', '’', '‹', '›':
		return true
	}
	return false
}

// lastWords returns up to n words before the end of s, nearest first, lower-cased,
// stopping at a sentence end.
func lastWords(s string, n int) []string {
	var out []string
	// A few words fit in a bounded window; looking further back would make
	// every mention cost the length of the paragraph.
	if len(s) > 160 {
		k := len(s) - 160
		for k < len(s) && !utf8.RuneStart(s[k]) {
			k++
		}
		s = s[k:]
	}
	end := len(s)
	for len(out) < n {
		i := end
		for i > 0 && (s[i-1] == ' ' || s[i-1] == '"' || s[i-1] == ',') {
			i--
		}
		if i == 0 || strings.ContainsRune(".!?;:", rune(s[i-1])) {
			break
		}
		j := strings.LastIndexAny(s[:i], " \t\n")
		w := s[j+1 : i]
		out = append(out, strings.ToLower(strings.Trim(w, "\"„“”«»‚‘’")))
		end = j + 1
		if j < 0 {
			break
		}
	}
	return out
}

func firstWords(s string, n int) []string {
	var out []string
	for _, w := range strings.Fields(s[:min(len(s), 40)]) {
		if len(out) == n {
			break
		}
		w = strings.ToLower(strings.Trim(w, "\"„“”«»‚‘’,.;:!?"))
		out = append(out, w)
	}
	return out
}
