package normalize_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/names"
	"github.com/dewire/dewire/pipeline/normalize"
)

// testArticle is one file under testdata/articles: a header of expectations,
// the article as machine translation delivered it and as an editor would
// sign it, both in the plain-text layout.
//
//	lang: de
//	flags: names.first_name quote.opening_restored   (exactly these codes, in any order, repeats counted)
//	rules: names.feminine debris.strip                (at least these edit rules)
//	--- in
//	…
//	--- want
//	…
type testArticle struct {
	name, lang string
	flags      []string
	rules      []string
	in, want   string
}

func readArticles(t *testing.T) []testArticle {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "articles", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out []testArticle
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		head, rest, ok := strings.Cut(string(raw), "--- in\n")
		in, want, ok2 := strings.Cut(rest, "--- want\n")
		if !ok || !ok2 {
			t.Fatalf("%s: want a header, '--- in' and '--- want'", p)
		}
		a := testArticle{name: strings.TrimSuffix(filepath.Base(p), ".txt"), in: in, want: want}
		for _, line := range strings.Split(head, "\n") {
			k, v, _ := strings.Cut(line, ":")
			switch strings.TrimSpace(k) {
			case "lang":
				a.lang = strings.TrimSpace(v)
			case "flags":
				a.flags = strings.Fields(v)
			case "rules":
				a.rules = strings.Fields(v)
			}
		}
		if a.lang != "de" && a.lang != "en" {
			t.Fatalf("%s: lang %q", p, a.lang)
		}
		out = append(out, a)
	}
	if len(out) < 20 {
		t.Fatalf("%d test articles, want at least 20", len(out))
	}
	return out
}

// TestArticles normalizes each test article and compares it with the text an
// editor signed, the flags it must raise (no more, no fewer) and the rules
// its edits must use; every name edit must carry evidence and a confidence
// above the threshold, every flag a field, a place inside it and a message.
func TestArticles(t *testing.T) {
	ns := map[string]*normalize.Normalizer{}
	for _, a := range readArticles(t) {
		t.Run(a.name, func(t *testing.T) {
			n := ns[a.lang]
			if n == nil {
				n = normalizer(t, a.lang)
				ns[a.lang] = n
			}
			art := &article.Article{}
			text := parseLayout(a.in)
			if a.lang == "en" {
				art.EN = &text
			} else {
				art.DE = text
			}
			n.Article(art)
			got := renderKept(art.Text(a.lang))
			want := renderKept(ptr(parseLayout(a.want)))
			if got != want {
				t.Errorf("text differs\n got:\n%s\nwant:\n%s", got, want)
			}
			var codes []string
			for _, f := range art.Flags {
				codes = append(codes, f.Code)
				if f.Field == "" || f.Message == "" {
					t.Errorf("flag without a field or a message: %+v", f)
					continue
				}
				if s, ok := fieldText(art.Text(a.lang), a.lang, f.Field); !ok || f.Offset < 0 || f.Offset > len(s) {
					t.Errorf("flag %s points outside its field %s: %+v", f.Code, f.Field, f)
				}
			}
			slices.Sort(codes)
			wantCodes := slices.Clone(a.flags)
			slices.Sort(wantCodes)
			if !slices.Equal(codes, wantCodes) {
				var msgs []string
				for _, f := range art.Flags {
					msgs = append(msgs, f.Code+": "+f.Message)
				}
				t.Errorf("flags %v, want %v\n%s", codes, wantCodes, strings.Join(msgs, "\n"))
			}
			rules := map[string]bool{}
			for _, e := range art.Edits {
				rules[e.Rule] = true
				if strings.HasPrefix(e.Rule, "names.") && (e.Evidence == "" || e.Confidence < names.MinConfidence) {
					t.Errorf("name edit without evidence or below the threshold: %+v", e)
				}
			}
			for _, r := range a.rules {
				if !rules[r] {
					t.Errorf("no %s edit among %v", r, art.Edits)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// renderKept is render without the paragraphs debris removal emptied.
func renderKept(t *article.Text) string {
	var ps []string
	for _, p := range t.Paragraphs {
		if p != "" {
			ps = append(ps, p)
		}
	}
	return t.Title + "\n\n" + strings.Join(ps, "\n\n") + "\n"
}

// fieldText returns the text of the named field.
func fieldText(t *article.Text, lang, name string) (string, bool) {
	for _, f := range t.Fields(lang) {
		if f.Name == name {
			return *f.Text, true
		}
	}
	return "", false
}
