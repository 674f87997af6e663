package sink

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/record"
)

// TMX writes the sentence pairs of each record to <dir>/articles-YYYY-MM-DD.tmx
// (the day of ingestion, like the JSONL). Records without segments (no
// engine) add nothing. Every file on disk is valid TMX 1.4b after each
// record, and each (id, rev) is in the files once: the units carry their
// record key, read back from every file when the writer opens.
type TMX struct {
	dir    string
	header record.TMXHeader

	mu    sync.Mutex
	files map[string]*record.TMXFile
	revs  revisions
}

// OpenTMX opens the TMX files in dir (repairing one torn by a crash) and
// learns which records they hold.
func OpenTMX(dir string, h record.TMXHeader) (*TMX, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tmx folder: %w", err)
	}
	t := &TMX{dir: dir, header: h, files: map[string]*record.TMXFile{}, revs: revisions{}}
	names, err := filepath.Glob(filepath.Join(dir, "articles-*.tmx"))
	if err != nil {
		return nil, fmt.Errorf("tmx folder: %w", err)
	}
	sort.Strings(names)
	for _, path := range names {
		f, err := record.OpenTMXFile(path, h)
		if err != nil {
			t.Close()
			return nil, err
		}
		t.files[filepath.Base(path)] = f
		for _, r := range f.Records() {
			t.revs.add(r.ID, r.Rev, r.Hash)
		}
	}
	return t, nil
}

// Write implements Writer. A record whose (id, rev) the files hold with
// other content is stored under the next free revision, like JSONL does.
func (t *TMX) Write(_ context.Context, a *article.Article) error {
	if len(a.Segments) == 0 {
		return nil
	}
	at := a.Source.IngestedAt
	if at.IsZero() {
		at = time.Now()
	}
	name := "articles-" + at.UTC().Format(time.DateOnly) + ".tmx"
	t.mu.Lock()
	defer t.mu.Unlock()
	rev, dup := t.revs.resolve(a.ID, a.Rev, a.Hash)
	if dup {
		return nil
	}
	rec := a
	if rev != a.Rev {
		rec = Reassign(a, rev)
	}
	f, ok := t.files[name]
	if !ok {
		var err error
		if f, err = record.OpenTMXFile(filepath.Join(t.dir, name), t.header); err != nil {
			return err
		}
		t.files[name] = f
	}
	if err := f.Append(rec); err != nil {
		return fmt.Errorf("tmx %s: %w", rec.Key(), err)
	}
	t.revs.add(rec.ID, rec.Rev, rec.Hash)
	return nil
}

// Latest returns the highest revision the TMX files hold for id.
func (t *TMX) Latest(id string) (rev int, hash string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.revs.latest(id)
}

// Close closes every file.
func (t *TMX) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	for _, f := range t.files {
		errs = append(errs, f.Close())
	}
	t.files = map[string]*record.TMXFile{}
	return errors.Join(errs...)
}
