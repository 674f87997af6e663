package sink_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/record"
	"github.com/dewire/dewire/workers/sink"
)

func rec(id string, rev int) *article.Article {
	return &article.Article{
		Schema: article.Schema, ID: id, Rev: rev,
		Source: article.Source{Name: "wire", IngestedAt: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)},
		DE:     article.Text{Title: "Titel " + id, Paragraphs: []string{"Absatz."}},
	}
}

func lines(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "articles-2026-11-24.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func open(t *testing.T, dir string) *sink.JSONL {
	t.Helper()
	j, err := sink.OpenJSONL(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func TestJSONLWritesEachIDAndRevisionOnce(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	for _, r := range []*article.Article{rec("a", 1), rec("a", 1), rec("a", 2), rec("b", 1)} {
		if _, err := j.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(lines(t, dir)); n != 3 {
		t.Fatalf("%d lines, want 3", n)
	}
	j.Close()

	t.Run("a restart remembers what was written", func(t *testing.T) {
		j := open(t, dir)
		if !j.Has("a", 2) || j.Len() != 3 {
			t.Fatalf("has a@2 %v, len %d", j.Has("a", 2), j.Len())
		}
		if fresh, err := j.Write(rec("a", 1)); err != nil || fresh {
			t.Fatalf("rewrite after restart: fresh %v, %v", fresh, err)
		}
		if n := len(lines(t, dir)); n != 3 {
			t.Fatalf("%d lines after restart, want 3", n)
		}
	})
}

func TestJSONLRecoversFromACrashMidWrite(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	j.Write(rec("a", 1))
	j.Write(rec("b", 1))
	j.Close()
	path := filepath.Join(dir, "articles-2026-11-24.jsonl")

	t.Run("a torn last line is cut off and its record can be written again", func(t *testing.T) {
		f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		f.WriteString(`{"schema":"dewire.article/v1","id":"c","rev":1,"sou`)
		f.Close()
		j := open(t, dir)
		if j.Has("c", 1) {
			t.Fatal("a torn record counts as written")
		}
		if _, err := j.Write(rec("c", 1)); err != nil {
			t.Fatal(err)
		}
		got := lines(t, dir)
		if len(got) != 3 || !strings.Contains(got[2], `"id":"c"`) || strings.Contains(got[2], `"sou{`) {
			t.Fatalf("lines %q", got)
		}
		j.Close()
	})
	t.Run("a record whose index entry was lost is found again", func(t *testing.T) {
		idx := filepath.Join(dir, "index.tsv")
		b, _ := os.ReadFile(idx)
		keep := strings.SplitAfter(string(b), "\n")[0] // only a@1 survives
		os.WriteFile(idx, []byte(keep), 0o644)
		j := open(t, dir)
		for _, k := range []string{"a", "b", "c"} {
			if !j.Has(k, 1) {
				t.Errorf("%s@1 not recovered", k)
			}
		}
		if fresh, _ := j.Write(rec("b", 1)); fresh {
			t.Fatal("b@1 written twice")
		}
		if n := len(lines(t, dir)); n != 3 {
			t.Fatalf("%d lines, want 3", n)
		}
	})
}

// release starts n goroutines running fn at the same moment and waits for
// them, failing t if they have not all returned within a minute.
func release(t *testing.T, n int, fn func(i int)) {
	t.Helper()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("writers still blocked after a minute: deadlock")
	}
}

func TestJSONLConcurrentWritersStoreEachRecordOnce(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	var fresh atomic.Int64
	// Every record arrives twice at once, as a redelivery racing the first copy.
	release(t, 400, func(i int) {
		written, err := j.Write(rec(fmt.Sprintf("r%03d", i/2), 1))
		if err != nil {
			t.Error(err)
		}
		if written {
			fresh.Add(1)
		}
	})
	if n := len(lines(t, dir)); n != 200 {
		t.Fatalf("%d lines, want 200", n)
	}
	if fresh.Load() != 200 {
		t.Fatalf("%d writes report a fresh record, want 200", fresh.Load())
	}
}

func TestJSONLConcurrentCopiesOfOneRecordAllReturn(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	var fresh atomic.Int64
	release(t, 64, func(int) {
		written, err := j.Write(rec("a", 1))
		if err != nil {
			t.Error(err)
		}
		if written {
			fresh.Add(1)
		}
	})
	if n := len(lines(t, dir)); n != 1 || fresh.Load() != 1 {
		t.Fatalf("%d lines, %d fresh writes; want 1 and 1", n, fresh.Load())
	}
}

func TestTMXWritesOnlyTranslatedRecords(t *testing.T) {
	dir := t.TempDir()
	w, err := sink.OpenTMX(dir, record.TMXHeader{CreationToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	untranslated := rec("a", 1)
	translated := rec("b", 1)
	translated.Segments = []article.Segment{{Para: article.ParaTitle, DE: "Titel b", EN: "Title b"}, {Para: 0, DE: "Absatz.", EN: "Paragraph."}}
	for _, r := range []*article.Article{untranslated, translated} {
		if err := w.Write(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	b, err := os.ReadFile(filepath.Join(dir, "articles-2026-11-24.tmx"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "<tu "); n != 2 || !strings.Contains(string(b), "Paragraph.") {
		t.Fatalf("%d <tu> in\n%s", n, b)
	}
}

func TestJSONLRefusesToCutAcknowledgedRecords(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	for _, id := range []string{"a", "b", "c"} {
		if _, err := j.Write(rec(id, 1)); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	path := filepath.Join(dir, "articles-2026-11-24.jsonl")
	b, _ := os.ReadFile(path)
	second := strings.IndexByte(string(b), '\n') + 1
	b[second+3] = 0 // b@1, indexed and acknowledged, no longer parses
	os.WriteFile(path, b, 0o644)
	// An index from before hashes makes the file be read from the start.
	idx := filepath.Join(dir, "index.tsv")
	ib, _ := os.ReadFile(idx)
	var old strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(string(ib), "\n"), "\n") {
		old.WriteString(strings.Join(strings.Split(line, "\t")[:3], "\t") + "\n")
	}
	os.WriteFile(idx, []byte(old.String()), 0o644)

	if _, err := sink.OpenJSONL(dir); !errors.Is(err, sink.ErrCorrupt) {
		t.Fatalf("OpenJSONL = %v, want ErrCorrupt", err)
	}
	if after, _ := os.ReadFile(path); len(after) != len(b) {
		t.Fatalf("the file was cut from %d to %d bytes", len(b), len(after))
	}
}
