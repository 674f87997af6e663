package normalize_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/names"
	"github.com/dewire/dewire/pipeline/normalize"
)

func fieldOf(t *testing.T, a *article.Article, name string) string {
	t.Helper()
	for _, lang := range []string{"de", "en"} {
		for _, f := range a.Text(lang).Fields(lang) {
			if f.Name == name {
				return *f.Text
			}
		}
	}
	t.Fatalf("no field %s", name)
	return ""
}

func seedArticle(t *testing.T) *article.Article {
	t.Helper()
	body, err := os.ReadFile(testenv.SharedFile(t, "seed", "article.de.txt"))
	if err != nil {
		t.Fatal(err)
	}
	paras := strings.Split(strings.TrimSpace(string(body)), "\n\n")
	return &article.Article{DE: article.Text{Title: paras[0], Paragraphs: paras[1:]}}
}

func TestEveryEditOfTheSeedIsFoundAtItsFinalOffset(t *testing.T) {
	a := seedArticle(t)
	de, err := normalize.New("de")
	if err != nil {
		t.Fatal(err)
	}
	de.Apply(a, nil)
	if len(a.Edits) < 10 {
		t.Fatalf("only %d edits on the seed", len(a.Edits))
	}
	for i, e := range a.Edits {
		final := fieldOf(t, a, e.Field)
		if e.FinalOffset < 0 || e.FinalOffset > len(final) || !strings.HasPrefix(final[e.FinalOffset:], e.After) {
			// a later edit may have changed part of After; it must then touch this span
			later := false
			for _, l := range a.Edits[i+1:] {
				later = later || l.Field == e.Field
			}
			if !later {
				t.Errorf("edit %d %s %q→%q: final text at %d is %q", i, e.Rule, e.Before, e.After, e.FinalOffset, snippet(final, e.FinalOffset))
			} else {
				t.Logf("edit %d %s %q→%q overwritten later: %q", i, e.Rule, e.Before, e.After, snippet(final, e.FinalOffset))
			}
		}
	}
}

func snippet(s string, at int) string {
	at = max(0, min(at, len(s)))
	return s[at:min(len(s), at+24)]
}

func TestEmptyListsAreWrittenAsEmptyArrays(t *testing.T) {
	b, err := json.Marshal(&article.Article{Schema: article.Schema, ID: "x", Rev: 1, Entities: []article.Entity{{ID: "e"}}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"segments", "edits", "flags", "trace"} {
		if string(m[k]) != "[]" {
			t.Errorf("%s is %s, want []", k, m[k])
		}
	}
	if !strings.Contains(string(m["entities"]), `"mentions":[]`) || strings.Contains(string(b), "null") {
		t.Errorf("record has a null list: %s", b)
	}
}

func TestDeskNamesApplyToTheNextArticleWithoutANewNormalizer(t *testing.T) {
	en, err := normalize.New("en")
	if err != nil {
		t.Fatal(err)
	}
	var desk normalize.DeskNames
	text := func() string {
		a := &article.Article{EN: &article.Text{Title: "Minister Hans Wurstel spoke in Bern."}}
		en.Apply(a, &desk)
		return a.EN.Title
	}
	if got := text(); !strings.Contains(got, "Wurstel") {
		t.Fatalf("before the desk name: %q", got)
	}
	if err := desk.Set(&names.File{Entities: []names.Entity{{Kind: names.KindPerson, DE: "Hans Würstel", EN: "Hans Wurstl", Aliases: []string{"Hans Wurstel"}}}}); err != nil {
		t.Fatal(err)
	}
	if got := text(); !strings.Contains(got, "Hans Wurstl ") {
		t.Errorf("after the desk name: %q, want Hans Wurstl", got)
	}
}
