package normalize

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/dewire/dewire/pipeline/article"
)

// Normalizer repairs the text of one language of an article.
type Normalizer struct {
	lang  string
	stage string
}

// New returns a Normalizer for "de" or "en".
func New(lang string) (*Normalizer, error) {
	switch lang {
	case "de":
		return &Normalizer{lang: lang, stage: article.StageNormalizeDE}, nil
	case "en":
		return &Normalizer{lang: lang, stage: article.StageNormalizeEN}, nil
	}
	return nil, fmt.Errorf("normalize: unsupported language %q (want de or en)", lang)
}

// Lang is the language the Normalizer works on.
func (n *Normalizer) Lang() string { return n.lang }

// Article normalizes a.DE or a.EN in place and appends edits and flags.
// An article without text in the language is left alone.
func (n *Normalizer) Article(a *article.Article) {
	t := a.Text(n.lang)
	if t == nil {
		return
	}
	for _, f := range t.Fields(n.lang) {
		out, edits := n.field(f.Name, *f.Text)
		*f.Text = out
		a.Edits = append(a.Edits, edits...)
	}
}

func (n *Normalizer) field(name, s string) (string, []article.Edit) {
	var edits []article.Edit
	if !norm.NFC.IsNormalString(s) {
		out := norm.NFC.String(s)
		edits = append(edits, article.Edit{Stage: n.stage, Rule: "unicode.nfc", Field: name, Offset: 0, Before: s, After: out})
		s = out
	}
	if out := collapseSpace(s); out != s {
		edits = append(edits, article.Edit{Stage: n.stage, Rule: "space.collapse", Field: name, Offset: 0, Before: s, After: out})
		s = out
	}
	return s, edits
}

// collapseSpace trims the ends and folds every run of white space to one space.
func collapseSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}
