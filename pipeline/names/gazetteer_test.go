package names_test

import (
	"strings"
	"testing"

	"github.com/dewire/dewire/pipeline/names"
)

func TestDefaultGazetteer(t *testing.T) {
	g, err := names.Default()
	if err != nil {
		t.Fatal(err)
	}
	ents := g.Entities()
	t.Run("it holds at least 300 entities", func(t *testing.T) {
		if len(ents) < 300 {
			t.Errorf("%d entities, want ≥ 300", len(ents))
		}
		t.Logf("%d entities", len(ents))
	})
	t.Run("ids are unique and every entity has a kind and both forms", func(t *testing.T) {
		seen := map[string]bool{}
		for _, e := range ents {
			if seen[e.ID] {
				t.Errorf("duplicate id %q", e.ID)
			}
			seen[e.ID] = true
			if e.DE == "" || e.EN == "" || e.Kind == "" {
				t.Errorf("%s: incomplete: %+v", e.ID, e)
			}
		}
	})
	t.Run("every German and English form leads back to its entity", func(t *testing.T) {
		for _, e := range ents {
			for _, form := range append([]string{e.DE, e.EN}, e.Aliases...) {
				found := false
				for _, o := range g.Lookup(form) {
					if o.ID == e.ID {
						found = true
					}
				}
				if !found {
					t.Errorf("Lookup(%q) misses %s", form, e.ID)
				}
			}
		}
	})
	t.Run("no two entities share a key unless they say so", func(t *testing.T) {
		owner := map[string]string{}
		shares := map[string]map[string]bool{}
		for _, e := range ents {
			shares[e.ID] = map[string]bool{}
			for _, id := range e.SharesKey {
				shares[e.ID][id] = true
			}
		}
		for _, e := range ents {
			for _, form := range append([]string{e.DE, e.EN}, e.Aliases...) {
				k := names.Key(form)
				if o, ok := owner[k]; ok && o != e.ID && !shares[o][e.ID] && !shares[e.ID][o] {
					t.Errorf("%s and %s collide on key %q (%s)", o, e.ID, k, form)
				}
				owner[k] = e.ID
			}
		}
	})
	t.Run("surnames of different people collide only when they are the same name", func(t *testing.T) {
		sur := map[string]map[string]bool{}
		for _, e := range ents {
			if e.Kind != names.KindPerson {
				continue
			}
			f := strings.Fields(e.EN)
			k := names.Key(f[len(f)-1])
			if sur[k] == nil {
				sur[k] = map[string]bool{}
			}
			sur[k][f[len(f)-1]] = true
		}
		for k, spellings := range sur {
			if len(spellings) > 1 {
				t.Errorf("key %q joins different English surnames %v", k, spellings)
			}
		}
	})
}

func TestDeskFileOverridesAndAdds(t *testing.T) {
	def, err := names.DefaultFile()
	if err != nil {
		t.Fatal(err)
	}
	desk, err := names.ParseFile(strings.NewReader(`
persons:
  - {id: dmitry-peskov, country: ru, de: Dmitrij Peskow, en: Dmitry Peskov}
  - {country: ru, de: Iwan Testow, en: Ivan Testov}
`))
	if err != nil {
		t.Fatal(err)
	}
	g, err := names.New(def, desk)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a desk entry with a known id replaces the embedded one", func(t *testing.T) {
		e, ok := g.Entity("dmitry-peskov")
		if !ok || e.DE != "Dmitrij Peskow" {
			t.Errorf("got %+v", e)
		}
	})
	t.Run("a desk entry with a new id is added", func(t *testing.T) {
		if _, ok := g.Entity("ivan-testov"); !ok {
			t.Error("ivan-testov missing")
		}
	})
	t.Run("unknown keys in a desk file are an error", func(t *testing.T) {
		if _, err := names.ParseFile(strings.NewReader("persons:\n  - {de: A B, en: A B, colour: red}\n")); err == nil {
			t.Error("no error")
		}
	})
}
