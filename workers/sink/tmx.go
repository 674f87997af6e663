package sink

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/record"
)

// TMX writes the sentence pairs of each record to <dir>/articles-YYYY-MM-DD.tmx
// (the day of ingestion, like the JSONL). Records without segments (no
// engine) add nothing. Every file on disk is valid TMX 1.4b after each record.
type TMX struct {
	dir    string
	header record.TMXHeader

	mu    sync.Mutex
	files map[string]*record.TMXFile
}

// OpenTMX prepares a TMX writer in dir.
func OpenTMX(dir string, h record.TMXHeader) (*TMX, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tmx folder: %w", err)
	}
	return &TMX{dir: dir, header: h, files: map[string]*record.TMXFile{}}, nil
}

// Write implements Writer.
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
	f, ok := t.files[name]
	if !ok {
		var err error
		if f, err = record.OpenTMXFile(filepath.Join(t.dir, name), t.header); err != nil {
			return err
		}
		t.files[name] = f
	}
	if err := f.Append(a); err != nil {
		return fmt.Errorf("tmx %s: %w", a.Key(), err)
	}
	return nil
}

// Close closes every file.
func (t *TMX) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	for _, f := range t.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}
