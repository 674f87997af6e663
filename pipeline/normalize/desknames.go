package normalize

import (
	"fmt"
	"sync/atomic"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/names"
)

// DeskNames are names a desk adds while the pipeline runs. Normalizer.Apply
// consults them after the gazetteer (a second names pass over the article),
// so a name added or corrected at the desk applies to the next article
// without a restart. Set replaces the whole list; it is safe for concurrent
// use with Apply. The zero value and a nil *DeskNames hold no names.
type DeskNames struct {
	cur atomic.Pointer[deskSet]
}

type deskSet struct {
	n      int
	de, en *names.Rewriter
}

// Set makes f the desk's names (nil or empty: none). A file the gazetteer
// cannot use is an error and leaves the names as they were.
func (d *DeskNames) Set(f *names.File) error {
	if f == nil || len(f.Persons)+len(f.Places)+len(f.Orgs)+len(f.Entities) == 0 {
		d.cur.Store(nil)
		return nil
	}
	g, err := names.New(f)
	if err != nil {
		return fmt.Errorf("desk names: %w", err)
	}
	de, err := names.NewRewriter(g, names.Options{Lang: "de"})
	if err != nil {
		return fmt.Errorf("desk names: %w", err)
	}
	en, err := names.NewRewriter(g, names.Options{Lang: "en"})
	if err != nil {
		return fmt.Errorf("desk names: %w", err)
	}
	d.cur.Store(&deskSet{n: g.Len(), de: de, en: en})
	return nil
}

// Len is how many entities the desk's names hold.
func (d *DeskNames) Len() int {
	if d == nil {
		return 0
	}
	if s := d.cur.Load(); s != nil {
		return s.n
	}
	return 0
}

func (d *DeskNames) apply(n *Normalizer, a *article.Article) {
	if d == nil {
		return
	}
	s := d.cur.Load()
	t := a.Text(n.lang)
	if s == nil || t == nil {
		return
	}
	rw := s.de
	if n.lang == "en" {
		rw = s.en
	}
	res := rw.Rewrite(n.fields(t, nil))
	n.addNameEdits(a, res)
	for _, e := range res.Entities {
		found := false
		for i := range a.Entities {
			if a.Entities[i].ID == e.ID {
				a.Entities[i].Mentions = append(a.Entities[i].Mentions, e.Mentions...)
				found = true
				break
			}
		}
		if !found {
			a.Entities = append(a.Entities, e)
		}
	}
}
