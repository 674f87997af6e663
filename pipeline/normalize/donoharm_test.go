package normalize_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/dewire/dewire/pipeline/article"
)

// changedLines normalizes each line of a shared corpus file as one paragraph
// and logs every line that changed with the rules of its edits.
func changedLines(t *testing.T, lang, rel string) (changed, total int) {
	t.Helper()
	lines := corpusLines(t, rel)
	n := normalizer(t, lang)
	for i, line := range lines {
		a := &article.Article{}
		if lang == "en" {
			a.EN = &article.Text{Paragraphs: []string{line}}
		} else {
			a.DE.Paragraphs = []string{line}
		}
		n.Article(a)
		out := a.Text(lang).Paragraphs[0]
		if out == line {
			continue
		}
		changed++
		var rules []string
		for _, e := range a.Edits {
			rules = append(rules, e.Rule+" "+short(e.Before)+"→"+short(e.After))
		}
		t.Logf("%s:%d %v\n  - %s\n  + %s", filepath.Base(rel), i+1, rules, line, out)
	}
	return changed, len(lines)
}

// short shows an edit's text short enough to read in a log.
func short(s string) string {
	if r := []rune(s); len(r) > 60 {
		return "«" + string(r[:30]) + "…" + string(r[len(r)-20:]) + "»"
	}
	return "«" + s + "»"
}

func TestWholeNormalizerDoesNoHarmToProfessionalGerman(t *testing.T) {
	changed, total := changedLines(t, "de", "corpora/wmt22/generaltest2022.en-de.ref.A.de")
	per := 1000 * float64(changed) / float64(total)
	t.Logf("%d of %d lines changed (%.2f per 1,000)", changed, total, per)
	if per > 2 {
		t.Errorf("the normalizer changed %d of %d lines of professional German (%.2f per 1,000, at most 2)", changed, total, per)
	}
}

// TestDoNoHarmOtherCorpora holds the normalizer to what it changes today on
// the other professional references, with a little room: the name rewrites
// there are real repairs (English spellings inside German references), and a
// rule that starts touching many more lines fails here.
func TestDoNoHarmOtherCorpora(t *testing.T) {
	for _, tc := range []struct {
		lang, file string
		bound      float64 // changed lines per 1,000
	}{
		{"de", "corpora/wmt22/generaltest2022.en-de.ref.B.de", 8},
		{"de", "corpora/wmt23/generaltest2023.en-de.ref.refA.de", 27},
		{"en", "corpora/wmt22/generaltest2022.de-en.ref.A.en", 25},
	} {
		t.Run(strings.ReplaceAll(filepath.Base(tc.file), ".", "_"), func(t *testing.T) {
			changed, total := changedLines(t, tc.lang, tc.file)
			per := 1000 * float64(changed) / float64(total)
			t.Logf("%d of %d lines changed (%.2f per 1,000)", changed, total, per)
			if per > tc.bound {
				t.Errorf("%d of %d lines changed (%.2f per 1,000), more than %g", changed, total, per, tc.bound)
			}
		})
	}
}
