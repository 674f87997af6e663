package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
)

// withJS starts a JetStream server with the dewire topology.
func withJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	js := natstest.Server(t).JetStream()
	if err := bus.DefaultTopology().Ensure(context.Background(), js); err != nil {
		t.Fatal(err)
	}
	return js
}

func TestKVRevisions(t *testing.T) {
	ctx := context.Background()
	r, err := ingest.NewKVRevisions(ctx, withJS(t), bus.BucketRevisions)
	if err != nil {
		t.Fatal(err)
	}
	assign := func(id, hash string) (int, bool) {
		t.Helper()
		rev, dup, err := r.Assign(ctx, id, hash)
		if err != nil {
			t.Fatal(err)
		}
		return rev, dup
	}
	t.Run("a new id is revision 1", func(t *testing.T) {
		if rev, dup := assign("a", "h1"); rev != 1 || dup {
			t.Fatalf("%d %v", rev, dup)
		}
	})
	t.Run("the same content before it is confirmed is not a duplicate", func(t *testing.T) {
		if rev, dup := assign("a", "h1"); rev != 1 || dup {
			t.Fatalf("%d %v", rev, dup)
		}
	})
	t.Run("the same content after it is confirmed is a duplicate", func(t *testing.T) {
		if err := r.Confirm(ctx, "a", 1); err != nil {
			t.Fatal(err)
		}
		if rev, dup := assign("a", "h1"); rev != 1 || !dup {
			t.Fatalf("%d %v", rev, dup)
		}
	})
	t.Run("new content is the next revision", func(t *testing.T) {
		if rev, dup := assign("a", "h2"); rev != 2 || dup {
			t.Fatalf("%d %v", rev, dup)
		}
		r.Confirm(ctx, "a", 2)
		if rev, dup := assign("a", "h1"); rev != 3 || dup {
			t.Fatalf("old content again: %d %v", rev, dup)
		}
	})
	t.Run("replicas assigning the same new content at once agree on one revision", func(t *testing.T) {
		var wg sync.WaitGroup
		revs := make([]int, 8)
		for i := range revs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rev, _, err := r.Assign(ctx, "b", "same")
				if err != nil {
					t.Error(err)
				}
				revs[i] = rev
			}()
		}
		wg.Wait()
		for _, rev := range revs {
			if rev != 1 {
				t.Fatalf("revisions %v", revs)
			}
		}
	})
	t.Run("replicas assigning different content at once get distinct revisions", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		seen := map[int]bool{}
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rev, _, err := r.Assign(ctx, "c", string(rune('p'+i)))
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				seen[rev] = true
				mu.Unlock()
			}()
		}
		wg.Wait()
		if len(seen) != 6 {
			t.Fatalf("revisions %v", seen)
		}
	})
}

func TestSourceWalksFoldersAndWatchesForNewFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Minute)
		os.Chtimes(p, old, old)
	}
	write("a.txt", "Titel A\n\nErster Absatz.\n")
	write("sub/b.json", `{"title":"Titel B","paragraphs":["Zweiter Absatz."]}`)
	write(".hidden/c.txt", "Titel C\n\nVersteckt.\n")
	write(".d.txt", "Titel D\n\nVersteckt.\n")

	var mu sync.Mutex
	var titles []string
	src := &ingest.Source{Reader: &intake.Reader{}, Emit: func(_ context.Context, it intake.Item) error {
		mu.Lock()
		defer mu.Unlock()
		if it.Article != nil {
			titles = append(titles, it.Article.DE.Title)
		} else {
			titles = append(titles, "rejected:"+it.Reject.Reject.Code)
		}
		return nil
	}}
	if err := src.Paths(context.Background(), []string{dir}); err != nil {
		t.Fatal(err)
	}
	if len(titles) != 2 || titles[0] != "Titel A" || titles[1] != "Titel B" {
		t.Fatalf("read %v", titles)
	}

	t.Run("watch reads new and changed files once", func(t *testing.T) {
		mu.Lock()
		titles = nil
		mu.Unlock()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- src.Watch(ctx, []string{dir}, 50*time.Millisecond) }()
		time.Sleep(200 * time.Millisecond)
		write("new.txt", "Titel E\n\nNeu.\n")
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			n := len(titles)
			mu.Unlock()
			if n >= 1 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(titles) != 1 || titles[0] != "Titel E" {
			t.Fatalf("watch read %v", titles)
		}
	})
	t.Run("an unreadable path is reported, not skipped silently", func(t *testing.T) {
		var failed []string
		s := &ingest.Source{Reader: &intake.Reader{}, Emit: src.Emit, OnError: func(p string, err error) { failed = append(failed, p) }}
		if err := s.Paths(context.Background(), []string{filepath.Join(dir, "missing.txt")}); err != nil || len(failed) != 1 {
			t.Fatalf("err %v, reported %v", err, failed)
		}
	})
}
