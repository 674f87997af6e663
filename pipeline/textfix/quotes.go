package textfix

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dewire/dewire/pipeline/article"
)

// family groups quotation marks that pair with each other.
type family uint8

const (
	famNone   family = iota
	famDouble        // " „ “ ”
	famGuil          // « »
	famSingle        // ‚ ‘ ’ ‹ ›
)

type qrole uint8

const (
	roleNone qrole = iota
	roleOpen
	roleClose
)

// mark is one quotation mark found in a paragraph.
type mark struct {
	pos, size int
	r         rune
	fam       family
	role      qrole
	partner   int // index of the paired mark; restoredPartner for an inserted opener
	level     int // nesting depth of the pair, 0 outermost
	restoreAt int // for a closer whose opener is inserted: where it goes
}

const noPartner, restoredPartner = -1, -2

func quoteFamily(r rune) family {
	switch r {
	case '"', '„', '“', '”':
		return famDouble
	case '«', '»':
		return famGuil
	case '‚', '‘', '’', '‹', '›':
		return famSingle
	}
	return famNone
}

// runeBefore returns the rune ending at i, or -1 at the start.
func runeBefore(s string, i int) rune {
	if i <= 0 {
		return -1
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r
}

// runeAt returns the rune starting at i, or -1 at the end.
func runeAt(s string, i int) rune {
	if i >= len(s) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r
}

// isBlank treats the paragraph's edges as white space.
func isBlank(r rune) bool { return r == -1 || unicode.IsSpace(r) }

func isWord(r rune) bool { return r >= 0 && (unicode.IsLetter(r) || unicode.IsDigit(r)) }

func isOpenBracket(r rune) bool { return r == '(' || r == '[' || r == '{' }

func isDash(r rune) bool { return r == '-' || r == '–' || r == '—' || r == '/' }

// isTrailingPunct is punctuation that may follow a closing mark directly.
func isTrailingPunct(r rune) bool {
	switch r {
	case '.', ',', ';', ':', '!', '?', ')', ']', '}', '…':
		return true
	}
	return false
}

// position tells whether a mark stands where an opening or a closing mark stands.
func position(s string, pos, size int) (open, close bool) {
	p, n := runeBefore(s, pos), runeAt(s, pos+size)
	leftOpen := isBlank(p) || isOpenBracket(p) || isDash(p) || quoteFamily(p) != famNone
	open = leftOpen && !isBlank(n) && !isTrailingPunct(n)
	close = !isBlank(p) && !isOpenBracket(p) &&
		(isBlank(n) || isTrailingPunct(n) || isDash(n) || quoteFamily(n) != famNone)
	// "erhalten “," — a mark set off by a space before punctuation closes.
	if p != -1 && isBlank(p) && isTrailingPunct(n) {
		close = true
	}
	return open, close
}

// errAmbiguous aborts quote repair for a paragraph.
type errAmbiguous struct {
	pos int
	why string
}

// fixQuotes pairs the quotation marks of s and re-renders them in the desk style.
func (f *Fixer) fixQuotes(s string, acted, observed *[]article.Flag) []repl {
	var buf [32]mark
	ms := buf[:0]
	for i, r := range s {
		if fam := quoteFamily(r); fam != famNone {
			ms = append(ms, mark{pos: i, size: utf8.RuneLen(r), r: r, fam: fam, partner: noPartner, restoreAt: -1})
		}
	}
	if len(ms) == 0 {
		return nil
	}
	if e := f.pair(s, ms, padPairing(s, ms)); e != nil {
		*observed = append(*observed, article.Flag{
			Code:    FlagUnbalanced,
			Message: fmt.Sprintf("check the quotation marks near %q: %s; they were left as they are", snippet(s, e.pos), e.why),
			Offset:  e.pos,
		})
		return nil
	}
	var rs []repl
	for i := range ms {
		m := &ms[i]
		switch {
		case m.role == roleOpen && m.partner >= 0:
			rs = f.renderOpen(s, ms, i, rs)
		case m.role == roleClose && (m.partner >= 0 || m.partner == restoredPartner):
			if m.partner == restoredPartner {
				rs = append(rs, repl{start: m.restoreAt, end: m.restoreAt, text: f.marks.open, rule: RuleQuoteRestored})
				*acted = append(*acted, article.Flag{
					Code:    FlagOpeningRestored,
					Message: fmt.Sprintf("opening quotation mark inserted before %q; check where the quotation begins", snippet(s[m.restoreAt:], 20)),
					Offset:  m.restoreAt,
				})
			}
			rs = f.renderClose(s, ms, i, rs)
		case m.role == roleOpen && m.partner == noPartner && m.fam != famSingle:
			// A quotation running on into the next paragraph opens at its start.
			rs = f.renderOpen(s, ms, i, rs)
		}
	}
	if strings.IndexByte(s, '\'') >= 0 {
		rs = f.nestedStraight(s, ms, rs)
	}
	return rs
}

// pair decides the role of every mark and pairs openers with closers.
func (f *Fixer) pair(s string, ms []mark, forced []qrole) *errAmbiguous {
	var stack []int
	// outer holds, for the doubles and guillemets on the stack, their index
	// into stack, so the innermost one is found in constant time however
	// many single quotes lie above it.
	var outer []int
	lastRoled := -1          // position of the last double or guillemet given a role
	topOuter := func() int { // the innermost open double or guillemet
		for len(outer) > 0 {
			k := outer[len(outer)-1]
			if k < len(stack) && ms[stack[k]].fam != famSingle {
				return stack[k]
			}
			outer = outer[:len(outer)-1]
		}
		return -1
	}
	for i := range ms {
		m := &ms[i]
		open, close := position(s, m.pos, m.size)
		if m.fam == famSingle {
			f.pairSingle(s, ms, i, open, close, &stack)
			continue
		}
		top := topOuter()
		inQuote := top >= 0 && ms[top].fam == m.fam
		if m.r == '"' && !inQuote && unicode.IsDigit(runeBefore(s, m.pos)) {
			continue // an inch mark: 16x12"
		}
		role, why := f.decide(s, m, ms, top, inQuote, open, close)
		if forced != nil && forced[i] != roleNone {
			role, why = forced[i], ""
			if role == roleOpen && inQuote {
				why = "opening mark inside an open quotation"
			}
		}
		if why != "" {
			return &errAmbiguous{m.pos, why}
		}
		if role != roleNone {
			lastRoled = m.pos
		}
		if role == roleOpen {
			m.role, m.level = roleOpen, len(stack)
			outer = append(outer, len(stack))
			stack = append(stack, i)
			continue
		}
		m.role = roleClose
		if inQuote {
			for stack[len(stack)-1] != top { // an unmatched single quote inside is an apostrophe
				ms[stack[len(stack)-1]].role = roleNone
				stack = stack[:len(stack)-1]
			}
			stack = stack[:len(stack)-1]
			outer = outer[:len(outer)-1]
			m.partner, ms[top].partner = top, i
			m.level = ms[top].level
			continue
		}
		if top >= 0 {
			return &errAmbiguous{m.pos, "closing mark inside a different quotation"}
		}
		start, ok := f.restorable(s, ms, i, lastRoled)
		if !ok {
			return &errAmbiguous{m.pos, "closing mark without an opening mark"}
		}
		for _, k := range stack { // singles inside the restored quotation stay as they are
			ms[k].role = roleNone
		}
		stack, outer = stack[:0], outer[:0]
		m.partner, m.restoreAt = restoredPartner, start
	}
	var unclosed []int
	for _, k := range stack {
		if ms[k].fam != famSingle {
			unclosed = append(unclosed, k)
		} else {
			ms[k].role = roleNone
		}
	}
	switch {
	case len(unclosed) == 0:
	case len(unclosed) == 1 && unclosed[0] == 0 && strings.TrimLeft(s[:ms[0].pos], " \t") == "" && ms[0].level == 0:
		// news convention: a quotation spanning paragraphs opens each one and closes only the last
	default:
		return &errAmbiguous{ms[unclosed[len(unclosed)-1]].pos, "opening mark without a closing mark"}
	}
	return nil
}

// padPairing resolves straight double quotes set off by spaces on both
// sides (`sagte: " Wir sind bereit. " Dann`) when only one pairing is
// possible: the paragraph's only double quotes are straight, there is an even
// number of them, and every one that is not padded stands where its turn
// (open, close, open …) wants it. It returns the role of each mark, or nil.
func padPairing(s string, ms []mark) []qrole {
	padded, straight := 0, 0
	for i := range ms {
		m := &ms[i]
		if m.fam != famDouble {
			continue
		}
		if m.r != '"' {
			return nil
		}
		if unicode.IsDigit(runeBefore(s, m.pos)) {
			return nil // an inch mark makes the count uncertain
		}
		straight++
		if isBlank(runeBefore(s, m.pos)) && isBlank(runeAt(s, m.pos+m.size)) {
			padded++
		}
	}
	if padded == 0 || straight%2 != 0 {
		return nil
	}
	roles := make([]qrole, len(ms))
	k := 0
	for i := range ms {
		m := &ms[i]
		if m.fam != famDouble {
			continue
		}
		want := roleOpen
		if k%2 == 1 {
			want = roleClose
		}
		k++
		roles[i] = want
		p, n := runeBefore(s, m.pos), runeAt(s, m.pos+m.size)
		if isBlank(p) && isBlank(n) {
			// a padded closer must follow text and an opener precede it
			if want == roleOpen && (n == -1 || isBlank(runeAt(s, skipSpaces(s, m.pos+m.size)))) {
				return nil
			}
			continue
		}
		open, close := position(s, m.pos, m.size)
		if want == roleOpen && !open || want == roleClose && !close {
			return nil
		}
	}
	return roles
}

// nestedStraight turns straight single quotes paired inside an outermost
// quotation into the nested marks: „… 'absurd' …“ → „… ‚absurd‘ …“.
// Apostrophes (geht's, soldiers') never pair: only an opener in opening
// position followed by a closer in closing position does.
func (f *Fixer) nestedStraight(s string, ms []mark, rs []repl) []repl {
	for i := range ms {
		m := &ms[i]
		if m.role != roleOpen || m.partner < 0 || m.level != 0 || m.fam == famSingle {
			continue
		}
		from, to := m.pos+m.size, ms[m.partner].pos
		if strings.IndexByte(s[from:to], '\'') < 0 {
			continue
		}
		opener := -1
		for j := from; j < to; j++ {
			if s[j] != '\'' {
				continue
			}
			p, n := runeBefore(s, j), runeAt(s, j+1)
			if j+1 == to {
				n = -1
			}
			switch {
			case (isBlank(p) || isOpenBracket(p) || isDash(p)) && isWord(n):
				opener = j
			case opener >= 0 && (isWord(p) || p == '.' || p == '!' || p == '?') && !isWord(n):
				rs = append(rs, repl{start: opener, end: opener + 1, text: f.marks.nestedOpen, rule: RuleQuoteStyle},
					repl{start: j, end: j + 1, text: f.marks.nestedClose, rule: RuleQuoteStyle})
				opener = -1
			}
		}
	}
	return rs
}

// decide chooses open or close for a double quote or guillemet from the
// language's use of the mark, its position and whether a quotation is open.
func (f *Fixer) decide(s string, m *mark, ms []mark, top int, inQuote, open, close bool) (qrole, string) {
	if m.fam == famGuil {
		if inQuote {
			if m.r != ms[top].r || (close && !open) {
				return roleClose, ""
			}
			return roleNone, "guillemet repeated inside a quotation"
		}
		switch {
		case open && !close:
			return roleOpen, ""
		case close && !open:
			return roleClose, ""
		}
		return roleNone, "guillemet in an ambiguous position"
	}
	// leaning: +1 the language uses this mark to open, -1 to close, 0 neutral.
	leaning := 0
	switch m.r {
	case '„':
		leaning = 2 // opens in both languages
	case '“':
		leaning = -1
		if f.en {
			leaning = 1
		}
	case '”':
		leaning = -1
	}
	if inQuote {
		switch {
		case leaning == 2:
			return roleNone, "opening mark inside an open quotation"
		case leaning < 0:
			return roleClose, ""
		case open && !close:
			return roleNone, "opening-position mark inside an open quotation"
		}
		return roleClose, ""
	}
	switch {
	case leaning == 2:
		return roleOpen, ""
	case leaning > 0:
		// "conference“ A new look": English opens with “, so outside a
		// quotation it opens even when glued to the word before it, as „ does
		// in German; only a closing position before punctuation or the end
		// makes it a closer.
		if close && !open && !gluedOpener(s, m.pos, m.size) {
			return roleClose, ""
		}
		return roleOpen, ""
	case leaning < 0:
		if open && !close {
			return roleOpen, ""
		}
		return roleClose, ""
	case open && !close:
		return roleOpen, ""
	case close && !open:
		return roleClose, ""
	}
	return roleNone, "quotation mark in an ambiguous position"
}

// gluedOpener reports whether the mark at pos stands between a word and a
// space followed by a word: "conference“ A".
func gluedOpener(s string, pos, size int) bool {
	b := pos + size
	if b >= len(s) || s[b] != ' ' || !isWord(runeBefore(s, pos)) {
		return false
	}
	return isWord(runeAt(s, skipSpaces(s, b)))
}

// pairSingle handles single quotes, which double as apostrophes: they pair
// only when an opener and a closer stand in clear positions.
func (f *Fixer) pairSingle(s string, ms []mark, i int, open, close bool, stack *[]int) {
	m := &ms[i]
	st := *stack
	topSingle := len(st) > 0 && ms[st[len(st)-1]].fam == famSingle
	between := isWord(runeBefore(s, m.pos)) && isWord(runeAt(s, m.pos+m.size))
	canClose := topSingle && close && !between
	switch m.r {
	case '’', '‹', '›', '‘':
		if canClose {
			top := st[len(st)-1]
			*stack = st[:len(st)-1]
			m.role, m.partner, ms[top].partner, m.level = roleClose, top, i, ms[top].level
			return
		}
		if m.r == '’' {
			return
		}
	}
	if open && !close && !between {
		m.role, m.level = roleOpen, len(st)
		*stack = append(st, i)
	}
}

// restorable finds where the missing opener of the closer ms[i] belongs: the
// start of its sentence, when an attribution follows the closer.
func (f *Fixer) restorable(s string, ms []mark, i, lastRoled int) (int, bool) {
	m := ms[i]
	if !f.attributed(s, m.pos, m.size) {
		return 0, false
	}
	start, ok := sentenceStart(s, m.pos)
	if !ok || start >= m.pos {
		return 0, false
	}
	if lastRoled >= start && lastRoled < m.pos {
		return 0, false // another quotation lies inside the sentence
	}
	// The quotation takes in the sentences before it that speak in the first
	// person ("… schrieb unser Ministerium … Neun Tage sind vergangen“,
	// sagte er): it opens at the first of them.
	extended := false
	for {
		e := start
		for e > 0 && s[e-1] == ' ' {
			e--
		}
		if e == 0 {
			break
		}
		ps, ok := sentenceStart(s, e)
		if !ok || ps >= e || lastRoled >= ps && lastRoled < m.pos || !f.firstPerson(s[ps:e]) {
			break
		}
		start, extended = ps, true
	}
	// A closer in the first sentence may end a quotation begun in an earlier
	// paragraph; only first-person sentences before it show it begins here.
	if start == skipSpaces(s, 0) && !extended {
		return 0, false
	}
	return start, true
}

// firstPerson reports whether the sentence speaks in the first person and
// holds no quotation mark or colon (which would introduce another quotation).
func (f *Fixer) firstPerson(sent string) bool {
	words := dePersonWords
	if f.en {
		words = enPersonWords
	}
	found := false
	for i := 0; i < len(sent); {
		r, size := utf8.DecodeRuneInString(sent[i:])
		if quoteFamily(r) != famNone || r == ':' || r == '\'' {
			return false
		}
		if !isWord(r) {
			i += size
			continue
		}
		j := i
		for j < len(sent) {
			r2, sz := utf8.DecodeRuneInString(sent[j:])
			if !isWord(r2) {
				break
			}
			j += sz
		}
		if _, ok := words[strings.ToLower(sent[i:j])]; ok {
			found = true
		}
		i = j
	}
	return found
}

var dePersonWords = setOf("ich", "wir", "uns", "unser", "unsere", "unserer", "unseren", "unserem", "unseres",
	"mein", "meine", "meiner", "meinen", "meinem", "meines", "mir", "mich")

var enPersonWords = setOf("i", "we", "us", "our", "ours", "my", "me", "mine")

// attributed reports whether "“, sagte er" or ",” he said" follows the closer.
func (f *Fixer) attributed(s string, pos, size int) bool {
	q := pos
	for q > 0 && s[q-1] == ' ' {
		q--
	}
	inner := runeBefore(s, q)
	i := pos + size
	i = skipSpaces(s, i)
	comma := inner == ',' || inner == '?' || inner == '!'
	if i < len(s) && s[i] == ',' {
		comma = true
		i = skipSpaces(s, i+1)
	}
	if !comma {
		return false
	}
	verbs := deSpeechVerbs
	if f.en {
		verbs = enSpeechVerbs
	}
	for w := 0; w < 4 && i < len(s); w++ {
		j := i
		for j < len(s) {
			r, sz := utf8.DecodeRuneInString(s[j:])
			if !unicode.IsLetter(r) {
				break
			}
			j += sz
		}
		if j == i {
			return false
		}
		if _, ok := verbs[strings.ToLower(s[i:j])]; ok {
			return true
		}
		if j >= len(s) || s[j] != ' ' {
			return false
		}
		i = skipSpaces(s, j)
	}
	return false
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

var deSpeechVerbs = setOf("sagte", "sagt", "sagten", "sagen", "erklärte", "erklärt", "erklärten", "betonte", "betont",
	"fügte", "meinte", "meint", "schrieb", "schreibt", "teilte", "hieß", "heißt", "fragte", "fragt", "antwortete",
	"ergänzte", "berichtete", "warnte", "unterstrich", "bekräftigte", "versicherte", "kommentierte", "erläuterte",
	"behauptete", "räumte", "rief", "forderte", "twitterte", "äußerte", "bemerkte", "argumentierte", "verkündete",
	"so", "zitierte", "mahnte", "kritisierte", "erinnerte", "sprach", "lautete", "lautet", "sagt", "stellte", "gab",
	"fuhr", "kündigte", "versprach", "beklagte", "bestätigte", "schloss", "resümierte")

var enSpeechVerbs = setOf("said", "says", "say", "told", "tells", "added", "adds", "asked", "asks", "explained",
	"explains", "stated", "states", "wrote", "writes", "noted", "notes", "continued", "replied", "insisted", "warned",
	"argued", "tweeted", "remarked", "claimed", "announced", "recalled", "admitted", "according", "acknowledged",
	"concluded", "declared", "emphasized", "emphasised", "stressed", "observed", "commented", "suggested", "joked",
	"posted", "added", "answered", "confirmed")

func setOf(words ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}

// sentenceStart returns the start of the sentence containing s[end-1], or
// false when the boundary is uncertain (abbreviations, short words).
func sentenceStart(s string, end int) (int, bool) {
	// A sentence longer than maxSentence is no sentence one can be sure of,
	// and the bound keeps every lookup constant in the paragraph's length.
	stop := max(0, end-maxSentence)
	for j := end; j > 0; j-- {
		if j <= stop {
			return 0, false
		}
		if s[j-1] != ' ' {
			continue
		}
		k := j // start candidate
		for j > 0 && s[j-1] == ' ' {
			j--
		}
		if j == 0 {
			break
		}
		t := s[j-1]
		if t != '.' && t != '!' && t != '?' && t != ':' {
			continue
		}
		if t == '.' {
			switch boundaryAfterWord(s, j-1) {
			case notBoundary:
				continue
			case unsure:
				return 0, false
			}
		}
		return k, startsSentence(s, k)
	}
	k := skipSpaces(s, 0)
	return k, startsSentence(s, k)
}

// maxSentence bounds, in bytes, how far back a sentence start is looked for.
const maxSentence = 1500

func startsSentence(s string, k int) bool {
	r := runeAt(s, k)
	return unicode.IsUpper(r) || unicode.IsDigit(r)
}

// maxWord bounds, in bytes, the words looked at behind a period.
const maxWord = 64

type boundaryKind uint8

const (
	isBoundary boundaryKind = iota
	notBoundary
	unsure
)

// boundaryAfterWord judges the period at s[dot] by the word before it.
func boundaryAfterWord(s string, dot int) boundaryKind {
	w := dot
	for w > 0 && dot-w <= maxWord {
		r, sz := utf8.DecodeLastRuneInString(s[:w])
		if !isWord(r) {
			break
		}
		w -= sz
	}
	word := s[w:dot]
	switch {
	case word == "":
		return unsure
	case strings.Trim(word, "0123456789") == "":
		return notBoundary // an ordinal or a date: "am 4. April"
	}
	if _, ok := abbreviations[strings.ToLower(word)]; ok {
		return notBoundary
	}
	if utf8.RuneCountInString(word) <= 2 {
		if _, ok := shortSentenceEnds[strings.ToLower(word)]; !ok {
			return unsure
		}
	}
	return isBoundary
}

var abbreviations = setOf("dr", "nr", "bzw", "usw", "ca", "vgl", "st", "mr", "mrs", "ms", "jr", "prof", "abs",
	"art", "hr", "fr", "mio", "mrd", "tel", "inkl", "evtl", "ggf", "z", "b", "u", "a", "d", "h", "etc", "sog", "bspw",
	"no", "vs", "gen", "lt", "sgt", "col", "gov", "rep", "sen", "jan", "feb", "febr", "aug", "sept", "okt", "nov", "dez",
	"s", "bd", "kap", "abb", "tab", "ziff", "anm", "fig", "vol", "pp", "p", "v", "ff", "ebd", "str", "min", "std", "max")

var shortSentenceEnds = setOf("er", "es", "da", "so", "ab", "an", "zu", "um", "in", "ja", "wo", "du", "ob", "ok",
	"it", "up", "on", "us", "me", "go", "do", "be", "to", "by", "he", "we", "of", "is", "at", "or", "ich", "wir", "sie")

// openerStartsSentence reports whether a quotation opening at pos begins a sentence.
func openerStartsSentence(s string, pos int) bool {
	j := pos
	for j > 0 && s[j-1] == ' ' {
		j--
	}
	if j == 0 {
		return true
	}
	switch s[j-1] {
	case '.', '!', '?', ':', '(':
		return true
	}
	return false
}

// wantMark is the desk's mark for a pair, or "" to keep the original.
func (f *Fixer) wantMark(m mark, opening bool) string {
	nested := m.level%2 == 1
	if m.fam == famSingle && !nested {
		return "" // top-level single quotes are a deliberate choice (headlines)
	}
	switch {
	case opening && !nested:
		return f.marks.open
	case opening:
		return f.marks.nestedOpen
	case !nested:
		return f.marks.close
	}
	return f.marks.nestedClose
}

func (f *Fixer) renderOpen(s string, ms []mark, i int, rs []repl) []repl {
	m := ms[i]
	want := f.wantMark(m, true)
	if want == "" {
		want = s[m.pos : m.pos+m.size]
	}
	a, b := m.pos, m.pos+m.size
	rule := RuleQuoteStyle
	text := want
	k := skipSpaces(s, b)
	limit := len(s)
	if m.partner >= 0 {
		limit = ms[m.partner].pos
	}
	if k > b && k < limit {
		// "Konferenz„ Ein" → "Konferenz „Ein"; "sagte „ Ein" → "sagte „Ein"
		b, rule = k, RuleQuoteSpacing
		if p := runeBefore(s, a); isWord(p) || strings.ContainsRune(",.;:!?", p) {
			text = " " + want
		}
	}
	if s[a:b] == text {
		return rs
	}
	return append(rs, repl{start: a, end: b, text: text, rule: rule})
}

func (f *Fixer) renderClose(s string, ms []mark, i int, rs []repl) []repl {
	m := ms[i]
	want := f.wantMark(m, false)
	if want == "" {
		want = s[m.pos : m.pos+m.size]
	}
	openStart, openPos := m.restoreAt, m.restoreAt
	if m.partner >= 0 {
		openStart = ms[m.partner].pos
		openPos = openStart + ms[m.partner].size
	}
	a, b := m.pos, m.pos+m.size
	rule := RuleQuoteStyle
	// "erhalten “," → "erhalten“,"
	j := a
	for j > 0 && s[j-1] == ' ' {
		j--
	}
	if j < a && j > openPos {
		a, rule = j, RuleQuoteSpacing
	}
	pre, post := "", ""
	// ” , he said → ”, he said
	k := skipSpaces(s, b)
	outer := byte(0)
	if k < len(s) && (s[k] == ',' || s[k] == '.') && !(k+1 < len(s) && s[k+1] == '.') {
		nx := runeAt(s, k+1)
		if isBlank(nx) || quoteFamily(nx) != famNone {
			outer = s[k]
			if k > b {
				b, rule = k, RuleQuoteSpacing
			}
		}
	}
	inner := byte(0)
	if a > openPos {
		inner = s[a-1]
		if inner == '.' && a-2 >= 0 && s[a-2] == '.' {
			inner = 0 // an ellipsis belongs to the quotation
		}
	}
	outerFollowsLower := false
	if k == b+1 && s[b] == ' ' {
		outerFollowsLower = unicode.IsLower(runeAt(s, k))
	}
	outermost := m.fam != famSingle && m.level == 0
	switch {
	case !outermost:
	case !f.en || f.placement == PlacementBritish:
		switch {
		case inner == '.' && outer == '.':
			// "nur zu 10%.“." keeps one period: inside for a quoted sentence, outside otherwise
			rule = RulePunctPlacement
			if openerStartsSentence(s, openStart) {
				b = k + 1
			} else {
				a--
			}
		case !f.en && inner == '.' && outer == ',' && boundaryAfterWord(s, a-1) == isBoundary:
			// § 90: „Wir warten.“, sagte er → „Wir warten“, sagte er
			a, rule = a-1, RulePunctPlacement
		case !f.en && inner == ',' && outer == 0 && outerFollowsLower:
			// „Wir warten,“ sagte er → „Wir warten“, sagte er
			a, post, rule = a-1, ",", RulePunctPlacement
		}
	default: // American
		switch {
		case outer != 0 && inner == outer:
			b, rule = k+1, RulePunctPlacement
		case outer != 0 && inner != '?' && inner != '!' && inner != ',' && inner != '.' && inner != 0 && !isSpaceByte(inner):
			pre, b, rule = string(outer), k+1, RulePunctPlacement
		}
	}
	if a < m.pos && b == m.pos+m.size && isWord(runeAt(s, b)) {
		post += " " // "Konflikten “in" → "Konflikten“ in"
	}
	text := pre + want + post
	if s[a:b] == text {
		return rs
	}
	return append(rs, repl{start: a, end: b, text: text, rule: rule})
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' }

// snippet quotes a little of s around pos for a flag message.
func snippet(s string, pos int) string {
	a, b := pos-20, pos+20
	if a < 0 {
		a = 0
	}
	if b > len(s) {
		b = len(s)
	}
	for a > 0 && !utf8.RuneStart(s[a]) {
		a--
	}
	for b < len(s) && !utf8.RuneStart(s[b]) {
		b++
	}
	return s[a:b]
}
