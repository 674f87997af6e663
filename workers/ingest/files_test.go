package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/workers/ingest"
)

// collector is a Source whose items, skips and errors are recorded.
type collector struct {
	mu      sync.Mutex
	items   []intake.Item
	skipped map[string]string
	failed  []string
}

func (c *collector) source() *ingest.Source {
	c.skipped = map[string]string{}
	return &ingest.Source{
		Reader: &intake.Reader{},
		Emit: func(_ context.Context, it intake.Item) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.items = append(c.items, it)
			return nil
		},
		OnSkip: func(path, reason string) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.skipped[path] = reason
		},
		OnError: func(path string, err error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.failed = append(c.failed, path)
		},
	}
}

func (c *collector) paths() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, it := range c.items {
		if it.Article != nil {
			out = append(out, it.Article.Source.Path)
		}
	}
	sort.Strings(out)
	return out
}

func writeOld(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(path, old, old)
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestSymbolicLinksAreFollowedAndWhatIsSkippedIsTold(t *testing.T) {
	dir := t.TempDir()
	// A ConfigMap volume: the files are links through ..data into a hidden, timestamped folder.
	writeOld(t, filepath.Join(dir, "..2026_12_01_10_00_00.123", "meldung.txt"), "Titel\n\nAus der ConfigMap.\n")
	symlink(t, "..2026_12_01_10_00_00.123", filepath.Join(dir, "..data"))
	symlink(t, "..data/meldung.txt", filepath.Join(dir, "meldung.txt"))
	// A folder elsewhere, linked in, and a link back up that would loop.
	other := t.TempDir()
	writeOld(t, filepath.Join(other, "archiv.txt"), "Titel\n\nAus dem Archiv.\n")
	symlink(t, other, filepath.Join(dir, "archiv"))
	symlink(t, "..", filepath.Join(dir, "archiv-loop")) // dir/archiv-loop → parent of dir
	symlink(t, ".", filepath.Join(dir, "self"))
	symlink(t, "meldung.txt", filepath.Join(dir, "zweiter-name.txt"))
	symlink(t, "nirgendwo.txt", filepath.Join(dir, "kaputt.txt"))
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}

	var c collector
	if err := c.source().Paths(context.Background(), []string{dir}); err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "archiv", "archiv.txt"), filepath.Join(dir, "meldung.txt")}
	if got := c.paths(); !reflect.DeepEqual(got, want) {
		t.Fatalf("read %v, want %v", got, want)
	}
	wantSkipped := map[string]string{
		filepath.Join(dir, "..2026_12_01_10_00_00.123"): ingest.SkipHidden,
		filepath.Join(dir, "..data"):                    ingest.SkipHidden,
		filepath.Join(dir, "self"):                      ingest.SkipLoop,
		filepath.Join(dir, "zweiter-name.txt"):          ingest.SkipSameFile,
		filepath.Join(dir, "pipe"):                      ingest.SkipNotRegular,
	}
	// archiv-loop leads to dir's parent, a new folder: it is read, its way
	// back into dir is a loop, and the archive's folder beside it is
	// reached a second time.
	if r := c.skipped[filepath.Join(dir, "archiv-loop", filepath.Base(dir))]; r != ingest.SkipLoop {
		t.Errorf("the way back into the folder: %q, want %q", r, ingest.SkipLoop)
	}
	for p := range c.skipped {
		if filepath.Dir(p) != dir {
			delete(c.skipped, p)
		}
	}
	if !reflect.DeepEqual(c.skipped, wantSkipped) {
		t.Errorf("skipped %v\nwant %v", c.skipped, wantSkipped)
	}
	if len(c.failed) != 1 || c.failed[0] != filepath.Join(dir, "kaputt.txt") {
		t.Errorf("unreadable %v, want the dangling link", c.failed)
	}
}

func TestAnIOErrorOnOneFileDoesNotStopTheOthers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/mem for a real EIO")
	}
	dir := t.TempDir()
	writeOld(t, filepath.Join(dir, "a.txt"), "Titel A\n\nEins.\n")
	symlink(t, "/proc/self/mem", filepath.Join(dir, "b.txt")) // reading offset 0 fails with EIO
	writeOld(t, filepath.Join(dir, "c.txt"), "Titel C\n\nDrei.\n")
	var c collector
	if err := c.source().Paths(context.Background(), []string{dir}); err != nil {
		t.Fatal(err)
	}
	if got := c.paths(); len(got) != 2 || filepath.Base(got[0]) != "a.txt" || filepath.Base(got[1]) != "c.txt" {
		t.Fatalf("read %v", got)
	}
	if len(c.failed) != 1 || filepath.Base(c.failed[0]) != "b.txt" {
		t.Fatalf("unreadable %v", c.failed)
	}
}

func TestAWatchedFileIsReadOnceItIsStable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var c collector
	src := c.source()
	clock := time.Now() // stands still: only the two-rounds rule applies
	ingest.SetClock(src, func() time.Time { return clock })
	path := filepath.Join(dir, "meldung.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("Titel\n\nDer erste Teil")
	scan := func() {
		t.Helper()
		if err := src.Scan(ctx, []string{dir}); err != nil {
			t.Fatal(err)
		}
	}
	scan()
	if len(c.items) != 0 {
		t.Fatal("a file seen once was read")
	}
	f.WriteString(" und der zweite Teil.\n")
	os.Chtimes(path, time.Now(), time.Now().Add(time.Second)) // a new mtime even on coarse clocks
	scan()
	if len(c.items) != 0 {
		t.Fatal("a file that changed since the last round was read")
	}
	scan()
	if len(c.items) != 1 || c.items[0].Article.DE.Paragraphs[0] != "Der erste Teil und der zweite Teil." {
		t.Fatalf("items %+v, want the whole file once", c.items)
	}
	scan()
	if len(c.items) != 1 {
		t.Fatal("an unchanged file was read again")
	}
	t.Run("a file modified long ago is read in its first round", func(t *testing.T) {
		writeOld(t, filepath.Join(dir, "alt.txt"), "Alt\n\nSchon lange da.\n")
		scan()
		if len(c.items) != 2 {
			t.Fatalf("%d items", len(c.items))
		}
	})
	t.Run("a file renamed into place from a hidden name is read whole", func(t *testing.T) {
		tmp := filepath.Join(dir, ".neu.txt.tmp")
		writeOld(t, tmp, "Neu\n\nVollständig geschrieben.\n")
		scan()
		if len(c.items) != 2 {
			t.Fatal("a hidden file was read")
		}
		if err := os.Rename(tmp, filepath.Join(dir, "neu.txt")); err != nil {
			t.Fatal(err)
		}
		scan()
		if len(c.items) != 3 || c.items[2].Article.DE.Title != "Neu" {
			t.Fatalf("%d items", len(c.items))
		}
	})
}

// TestAWatchedFileWaitsForItsSettleTime follows a slow writer (a network
// folder, a long copy) with Settle set: a file is read only once it has
// stayed the same for Settle, however many rounds see it unchanged, and
// every change starts the wait again.
func TestAWatchedFileWaitsForItsSettleTime(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var c collector
	src := c.source()
	src.Settle = 30 * time.Second
	clock := time.Now()
	ingest.SetClock(src, func() time.Time { return clock })
	scan := func() {
		t.Helper()
		if err := src.Scan(ctx, []string{dir}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "langsam.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("Titel\n\nDer erste Teil")
	os.Chtimes(path, clock, clock)
	for range 3 { // rounds two seconds apart: unchanged, but not for 30 s
		scan()
		clock = clock.Add(2 * time.Second)
	}
	if len(c.items) != 0 {
		t.Fatal("a file unchanged for 6 s was read with a 30 s settle time")
	}
	f.WriteString(" und der Rest.\n")
	os.Chtimes(path, clock, clock)
	scan() // the change starts the wait again
	clock = clock.Add(29 * time.Second)
	scan()
	if len(c.items) != 0 {
		t.Fatal("a file unchanged for 29 s was read with a 30 s settle time")
	}
	clock = clock.Add(time.Second)
	scan()
	if len(c.items) != 1 || c.items[0].Article.DE.Paragraphs[0] != "Der erste Teil und der Rest." {
		t.Fatalf("items %+v, want the whole file once, after 30 s unchanged", c.items)
	}
	t.Run("a file last modified longer ago than the settle time is read at once", func(t *testing.T) {
		old := filepath.Join(dir, "alt.txt")
		if err := os.WriteFile(old, []byte("Alt\n\nLängst fertig.\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(old, clock.Add(-31*time.Second), clock.Add(-31*time.Second))
		scan()
		if len(c.items) != 2 {
			t.Fatalf("%d items, want the old file read in its first round", len(c.items))
		}
	})
}

func TestAnEditedFileIsTheSameArticle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "inbox", "meldung.txt")
	writeOld(t, path, "Titel\n\nErste Fassung.\n")
	var c collector
	src := c.source()
	if err := src.Paths(ctx, []string{filepath.Join(dir, "inbox")}); err != nil {
		t.Fatal(err)
	}
	writeOld(t, path, "Titel\n\nZweite, korrigierte Fassung.\n")
	if err := src.Paths(ctx, []string{filepath.Join(dir, "inbox")}); err != nil {
		t.Fatal(err)
	}
	if err := src.Paths(ctx, []string{path}); err != nil { // the file named on its own
		t.Fatal(err)
	}
	if len(c.items) != 3 {
		t.Fatalf("%d items", len(c.items))
	}
	a, b, single := c.items[0].Article, c.items[1].Article, c.items[2].Article
	if a.ID != b.ID || a.Hash == b.Hash {
		t.Fatalf("ids %s %s, hashes %s %s: want one id, two contents", a.ID, b.ID, a.Hash, b.Hash)
	}
	if single.ID != b.ID {
		t.Fatalf("the file named on its own has id %s, in its folder %s", single.ID, b.ID)
	}
}
