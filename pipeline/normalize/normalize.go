package normalize

import (
	"context"
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/names"
	"github.com/dewire/dewire/pipeline/textfix"
)

// Rules of the edits this package makes itself (textfix and names add their own).
const (
	RuleNFC           = "unicode.nfc"
	RuleSpaceCollapse = "space.collapse"
)

// Normalizer repairs the text of one language of an article: Unicode NFC and
// white space, then typography (textfix) per field, then names across the
// whole article. It holds no mutable state and is safe for concurrent use.
type Normalizer struct {
	lang  string
	stage string
	fix   *textfix.Fixer
	names *names.Rewriter
	// fieldNames are the names article.Text.Fields gives the title, the lead
	// and the first paragraphs, made once rather than for every article.
	fieldNames []string
	// entityPrefix is the field prefix of this language's mentions ("de.").
	entityPrefix string
	// fieldLists holds *[]article.Field for reuse: an article's field list
	// lives only while it is normalized.
	fieldLists sync.Pool
}

// namedParagraphs is how many paragraph field names a Normalizer keeps.
const namedParagraphs = 64

// New returns a Normalizer for "de" or "en" with the default style and the
// embedded gazetteer.
func New(lang string) (*Normalizer, error) {
	return NewWithStyle(lang, nil)
}

// NewWithStyle returns a Normalizer for "de" or "en" in a desk's style; a nil
// style means the defaults. The desk's own names (inline, or the file the style
// names, read now) override or extend the embedded gazetteer.
func NewWithStyle(lang string, st *Style) (*Normalizer, error) {
	if st == nil {
		st = &Style{}
	}
	g, err := st.gazetteer()
	if err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	return NewWithGazetteer(lang, st, g)
}

// NewWithGazetteer is NewWithStyle with a gazetteer the caller built (and may
// share between the German and the English Normalizer); the style's own names
// are not consulted.
func NewWithGazetteer(lang string, st *Style, g *names.Gazetteer) (*Normalizer, error) {
	if st == nil {
		st = &Style{}
	}
	n := &Normalizer{lang: lang, entityPrefix: lang + "."}
	ts := textfix.Style{Lang: lang, Exclamations: st.Exclamations}
	switch lang {
	case "de":
		n.stage = article.StageNormalizeDE
		ts.Quotes = st.Quotes.DE
	case "en":
		n.stage = article.StageNormalizeEN
		ts.Quotes = st.Quotes.EN
		ts.Placement = st.Placement
	default:
		return nil, fmt.Errorf("normalize: unsupported language %q (want de or en)", lang)
	}
	fix, err := textfix.New(ts)
	if err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	rw, err := names.NewRewriter(g, names.Options{Lang: lang, Contested: st.Contested})
	if err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	n.fix, n.names = fix, rw
	proto := article.Text{Lead: "-", Paragraphs: make([]string, namedParagraphs)}
	for _, f := range proto.Fields(lang) {
		n.fieldNames = append(n.fieldNames, f.Name)
	}
	return n, nil
}

// Lang is the language the Normalizer works on.
func (n *Normalizer) Lang() string { return n.lang }

// Article normalizes a.DE or a.EN in place, appends edits and flags, and
// records the entities found (replacing earlier mentions in this language).
// An article without text in the language is left alone.
func (n *Normalizer) Article(a *article.Article) {
	_ = n.ArticleContext(context.Background(), a)
}

// ArticleContext is Article that stops when ctx is done, checking between
// fields (each of which takes time linear in its length) and before the
// names pass; it then returns ctx's error, and a, partly normalized, must be
// discarded.
func (n *Normalizer) ArticleContext(ctx context.Context, a *article.Article) error {
	t := a.Text(n.lang)
	if t == nil {
		return nil
	}
	fl, _ := n.fieldLists.Get().(*[]article.Field)
	if fl == nil {
		fl = new([]article.Field)
	}
	defer func() {
		clear(*fl) // drop the pointers into a
		*fl = (*fl)[:0]
		n.fieldLists.Put(fl)
	}()
	fields := n.fields(t, (*fl)[:0])
	*fl = fields
	firstFlag := len(a.Flags)
	for _, f := range fields {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("normalize: %w", err)
		}
		out, edits, flags := n.field(*f.Text)
		*f.Text = out
		for i := range edits {
			edits[i].Stage, edits[i].Field = n.stage, f.Name
		}
		for i := range flags {
			flags[i].Stage, flags[i].Field = n.stage, f.Name
		}
		a.Edits = append(a.Edits, edits...)
		a.Flags = append(a.Flags, flags...)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("normalize: %w", err)
	}
	res := n.names.Rewrite(fields)
	if len(res.Edits) > 0 {
		// the typography flags point into the text as names left it
		for i := firstFlag; i < len(a.Flags); i++ {
			a.Flags[i].Offset = mapOffset(res.Edits, a.Flags[i].Field, a.Flags[i].Offset)
		}
	}
	n.addNameEdits(a, res)
	a.Entities = mergeEntities(a.Entities, res.Entities, n.entityPrefix)
	return nil
}

// addNameEdits stamps the names pass's edits and flags with this stage and
// adds them to a.
func (n *Normalizer) addNameEdits(a *article.Article, res names.Result) {
	for i := range res.Edits {
		res.Edits[i].Stage = n.stage
	}
	for i := range res.Flags {
		res.Flags[i].Stage = n.stage
	}
	a.Edits = append(a.Edits, res.Edits...)
	a.Flags = append(a.Flags, res.Flags...)
}

// mapOffset carries an offset in a field through the edits of that field
// applied after it was taken.
func mapOffset(edits []article.Edit, field string, off int) int {
	for _, e := range edits {
		if e.Field != field {
			continue
		}
		switch {
		case e.Offset+len(e.Before) <= off:
			off += len(e.After) - len(e.Before)
		case e.Offset < off:
			off = e.Offset
		}
	}
	return off
}

// fields is t.Fields(n.lang) with the field names made in advance, in out's
// memory where it has room.
func (n *Normalizer) fields(t *article.Text, out []article.Field) []article.Field {
	if len(t.Paragraphs) > namedParagraphs {
		return t.Fields(n.lang)
	}
	out = append(out, article.Field{Name: n.fieldNames[0], Text: &t.Title})
	if t.Lead != "" {
		out = append(out, article.Field{Name: n.fieldNames[1], Text: &t.Lead})
	}
	for i := range t.Paragraphs {
		out = append(out, article.Field{Name: n.fieldNames[2+i], Text: &t.Paragraphs[i]})
	}
	return out
}

// Text normalizes a single text (as one field named "text") and returns it
// with its edits and flags; handy for tests and the command line.
func (n *Normalizer) Text(s string) (string, []article.Edit, []article.Flag) {
	a := &article.Article{}
	t := &a.DE
	if n.lang == "en" {
		a.EN = &article.Text{}
		t = a.EN
	}
	t.Title = s
	n.Article(a)
	return t.Title, a.Edits, a.Flags
}

// field applies the per-field repairs: NFC, white space, typography.
func (n *Normalizer) field(s string) (string, []article.Edit, []article.Flag) {
	var edits []article.Edit
	var flags []article.Flag
	if hasInvisible(s) {
		s, edits, flags = removeInvisible(s, edits, flags)
	}
	nfc, spaced := scan(s)
	if !nfc {
		if out := norm.NFC.String(s); out != s {
			edits = append(edits, article.Edit{Rule: RuleNFC, Offset: 0, Before: s, After: out})
			s = out
			spaced = needsCollapse(s)
		}
	}
	if spaced {
		out := collapseSpace(s)
		edits = append(edits, article.Edit{Rule: RuleSpaceCollapse, Offset: 0, Before: s, After: out})
		s = out
	}
	out, fe, ff := n.fix.Fix(s)
	return out, join(edits, fe), join(flags, ff)
}

// join is append(a, b...) that hands b back as it is when a is empty.
func join[T any](a, b []T) []T {
	if len(a) == 0 {
		return b
	}
	return append(a, b...)
}

// scan looks at s once and reports whether it is certainly NFC (false means
// "maybe not") and whether its white space needs collapsing.
func scan(s string) (nfc, spaced bool) {
	nfc = true
	checked := false // the quick check has run on all of s
	if len(s) > 0 && (asciiSpace[s[0]] || asciiSpace[s[len(s)-1]]) {
		spaced = true
	}
	i := 0
	for i < len(s) {
		// Eight bytes at a time while none is a control byte or non-ASCII
		// and no two spaces may stand together, across the next byte too.
		for i+8 <= len(s) {
			x := load64(s, i)
			z := x ^ 0x2020202020202020
			sp := (z - 0x0101010101010101) &^ z & 0x8080808080808080 // spaces, rarely a false '!'
			if m := (x-0x2020202020202020|x)&0x8080808080808080 | sp&(sp>>8); m != 0 {
				i += bits.TrailingZeros64(m) / 8 // no byte before the first flagged one needs a look
				break
			}
			if sp>>63 != 0 && i+8 < len(s) && asciiSpace[s[i+8]] {
				i += 7
				break
			}
			i += 8
		}
		end := min(i+8, len(s))
		for ; i < end; i++ {
			c := s[i]
			if c-'!' < utf8.RuneSelf-'!' {
				continue // printable ASCII
			}
			switch {
			case c == ' ':
				spaced = spaced || i+1 < len(s) && asciiSpace[s[i+1]] // two spaces, or a space and a tab
			case c < ' ':
				spaced = spaced || asciiSpace[c]
			case checked:
			case (c == 0xC2 || c == 0xC3 || c == 0xC4 || c == 0xC5) && i+1 < len(s) && s[i+1]&0xC0 == 0x80:
				// U+0080–U+017F are all NFC; a combining mark after one is
				// not listed here and goes to the quick check.
				i++
			case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2] >= 0x82 && s[i+2] <= 0xBF:
				// U+2002–U+203F: spaces, dashes, quotation marks, ellipsis
				i += 2
			default:
				nfc, checked = norm.NFC.QuickSpanString(s) == len(s), true
			}
		}
	}
	return nfc, spaced
}

// load64 reads s[i:i+8] as a little-endian word.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// asciiSpace marks the ASCII white space that collapses; no-break spaces
// (U+00A0, U+202F) and other Unicode spaces are typography and stay.
var asciiSpace = [256]bool{' ': true, '\t': true, '\n': true, '\v': true, '\f': true, '\r': true}

// needsCollapse reports whether s has ASCII white space other than single
// spaces between words, or at either end.
func needsCollapse(s string) bool {
	_, spaced := scan(s)
	return spaced
}

// collapseSpace trims ASCII white space at the ends and folds every run of it
// inside to one space.
func collapseSpace(s string) string {
	b := make([]byte, 0, len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if asciiSpace[c] {
			space = len(b) > 0
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, c)
	}
	return string(b)
}

// mergeEntities replaces the mentions under prefix in have with those found.
func mergeEntities(have, found []article.Entity, prefix string) []article.Entity {
	byID := map[string]int{}
	out := have[:0]
	for _, e := range have {
		ms := e.Mentions[:0:0]
		for _, m := range e.Mentions {
			if !strings.HasPrefix(m.Field, prefix) {
				ms = append(ms, m)
			}
		}
		e.Mentions = ms
		if len(ms) == 0 {
			continue
		}
		byID[e.ID] = len(out)
		out = append(out, e)
	}
	for _, e := range found {
		if i, ok := byID[e.ID]; ok {
			out[i].Mentions = append(out[i].Mentions, e.Mentions...)
			continue
		}
		byID[e.ID] = len(out)
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
