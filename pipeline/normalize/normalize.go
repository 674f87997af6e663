package normalize

import (
	"fmt"
	"strings"
	"unicode"
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
}

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
	n := &Normalizer{lang: lang}
	ts := textfix.Style{Lang: lang}
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
	return n, nil
}

// Lang is the language the Normalizer works on.
func (n *Normalizer) Lang() string { return n.lang }

// Article normalizes a.DE or a.EN in place, appends edits and flags, and
// records the entities found (replacing earlier mentions in this language).
// An article without text in the language is left alone.
func (n *Normalizer) Article(a *article.Article) {
	t := a.Text(n.lang)
	if t == nil {
		return
	}
	fields := t.Fields(n.lang)
	for _, f := range fields {
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
	res := n.names.Rewrite(fields)
	for i := range res.Edits {
		res.Edits[i].Stage = n.stage
	}
	for i := range res.Flags {
		res.Flags[i].Stage = n.stage
	}
	a.Edits = append(a.Edits, res.Edits...)
	a.Flags = append(a.Flags, res.Flags...)
	a.Entities = mergeEntities(a.Entities, res.Entities, n.lang+".")
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
	if !norm.NFC.IsNormalString(s) {
		out := norm.NFC.String(s)
		edits = append(edits, article.Edit{Rule: RuleNFC, Offset: 0, Before: s, After: out})
		s = out
	}
	if needsCollapse(s) {
		out := collapseSpace(s)
		edits = append(edits, article.Edit{Rule: RuleSpaceCollapse, Offset: 0, Before: s, After: out})
		s = out
	}
	out, fe, flags := n.fix.Fix(s)
	return out, append(edits, fe...), flags
}

// needsCollapse reports whether s has white space other than single spaces
// between words, or at either end.
func needsCollapse(s string) bool {
	prevSpace := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case ' ':
				if prevSpace {
					return true
				}
				prevSpace = true
				continue
			case '\t', '\n', '\v', '\f', '\r':
				return true
			}
			prevSpace = false
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			return true
		}
		prevSpace = false
		i += size - 1
	}
	return prevSpace && len(s) > 0
}

// collapseSpace trims the ends and folds every run of white space to one space.
func collapseSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
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
