package sinktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/article"
)

// Writer is a sink writer under test.
type Writer interface {
	Write(ctx context.Context, a *article.Article) error
	Close() error
}

// Stored is one copy of a record found in a writer's storage.
type Stored struct {
	ID   string
	Rev  int
	Hash string
	// Reassigned is true when the copy carries the sink.revision_reassigned
	// flag (only checked for a Backend with Flags).
	Reassigned bool
}

func (s Stored) key() string { return fmt.Sprintf("%s@%d", s.ID, s.Rev) }

// Backend is what a writer gives the suite.
type Backend struct {
	// Open opens a writer on the storage named by dir (a fresh, empty
	// folder the first time). Called again with the same dir it opens the
	// same storage again, as a restarted process does.
	Open func(t *testing.T, dir string) Writer
	// Read returns every copy of every record in the storage named by dir,
	// read from the storage itself, not through the writer (a record stored
	// twice shows twice). It fails t when the storage is not valid: a JSONL
	// line that does not parse, TMX that is not well-formed.
	Read func(t *testing.T, dir string) []Stored
	// Files are glob patterns, relative to dir, of the files a write
	// changes, in the order it changes and syncs them; the suite tears
	// writes by cutting those files. Empty for a store whose writes are
	// atomic (a database).
	Files []string
	// Check, if set, is called once at the end with every folder the crash
	// test left behind, for checks too slow to run per folder (a DTD check).
	Check func(t *testing.T, dirs []string)
	// Flags: the storage keeps the record's flags, so Read reports Reassigned.
	Flags bool
}

var (
	day1 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	day2 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
)

func record(id string, rev int, hash string, at time.Time) *article.Article {
	title := "Titel " + id + " " + hash
	return &article.Article{
		Schema: article.Schema, ID: id, Rev: rev, Hash: hash,
		Source: article.Source{Name: "wire", IngestedAt: at},
		Lang:   article.Lang{Code: "de", Confidence: 1},
		DE:     article.Text{Title: title, Paragraphs: []string{"Erster Satz. Zweiter Satz."}},
		EN:     &article.Text{Title: "Title " + id + " " + hash, Paragraphs: []string{"First sentence. Second sentence."}},
		Segments: []article.Segment{
			{Para: article.ParaTitle, DE: title, EN: "Title " + id + " " + hash},
			{Para: 0, DE: "Erster Satz.", EN: "First sentence."},
			{Para: 0, DE: "Zweiter Satz.", EN: "Second sentence."},
		},
	}
}

// deliveries is the stream the sink consumes, in order. a@1 arrives a
// second time with other content, as from a pipeline whose revision store
// was lost: it must be kept as a@3.
func deliveries() []*article.Article {
	return []*article.Article{
		record("a", 1, "ha1", day1),
		record("b", 1, "hb1", day1),
		record("a", 2, "ha2", day2),
		record("a", 1, "ha3", day2),
		record("c", 1, "hc1", day2),
	}
}

// want is what the storage must hold after all deliveries.
var want = []Stored{
	{ID: "a", Rev: 1, Hash: "ha1"},
	{ID: "b", Rev: 1, Hash: "hb1"},
	{ID: "a", Rev: 2, Hash: "ha2"},
	{ID: "a", Rev: 3, Hash: "ha3", Reassigned: true},
	{ID: "c", Rev: 1, Hash: "hc1"},
}

// Run runs the contract against b.
func Run(t *testing.T, b Backend) {
	t.Run("each record is stored once however often it arrives", func(t *testing.T) {
		dir := t.TempDir()
		w := b.Open(t, dir)
		for range 2 {
			given := deliveries()
			deliver(t, w, given)
			for i, a := range given {
				got, _ := json.Marshal(a)
				orig, _ := json.Marshal(deliveries()[i])
				if !bytes.Equal(got, orig) {
					t.Fatalf("the writer changed the record it was given:\n got %s\nwant %s", got, orig)
				}
			}
		}
		closeWriter(t, w)
		w = b.Open(t, dir)
		deliver(t, w, deliveries())
		closeWriter(t, w)
		expect(t, b, dir, want)
	})

	t.Run("records arriving at the same moment are stored once", func(t *testing.T) {
		dir := t.TempDir()
		w := b.Open(t, dir)
		const copies = 16
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range copies {
			for _, a := range deliveries()[:3] { // no conflict: arrival order decides that one
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if err := w.Write(context.Background(), a); err != nil {
						t.Errorf("copy %d of %s: %v", i, a.Key(), err)
					}
				}()
			}
		}
		done := make(chan struct{})
		go func() { close(start); wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatal("concurrent writes of one record never returned (deadlock)")
		}
		closeWriter(t, w)
		expect(t, b, dir, want[:3])
	})

	t.Run("other content under a stored id and rev is kept under the next free rev", func(t *testing.T) {
		dir := t.TempDir()
		w := b.Open(t, dir)
		deliver(t, w, deliveries()[:4])
		// Every copy of the changed article, also after a restart, is a duplicate now.
		deliver(t, w, deliveries()[3:4])
		closeWriter(t, w)
		w = b.Open(t, dir)
		deliver(t, w, deliveries()[3:4])
		deliver(t, w, []*article.Article{record("a", 3, "ha3", day2)})
		closeWriter(t, w)
		expect(t, b, dir, want[:4])
	})

	t.Run("a crash between any two steps loses nothing and stores nothing twice", func(t *testing.T) {
		var dirs []string
		if len(b.Files) == 0 {
			dirs = crashAtomic(t, b)
		} else {
			dirs = crashFiles(t, b)
		}
		t.Logf("%d crash states, each reopened and redelivered twice", len(dirs))
		if b.Check != nil && !t.Failed() {
			b.Check(t, dirs)
		}
	})
}

func deliver(t *testing.T, w Writer, as []*article.Article) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, a := range as {
		if err := w.Write(ctx, a); err != nil {
			t.Fatalf("write %s: %v", a.Key(), err)
		}
	}
}

func closeWriter(t *testing.T, w Writer) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// expect fails t unless the storage holds exactly one copy of each of ws.
func expect(t *testing.T, b Backend, dir string, ws []Stored) {
	t.Helper()
	if msg := compare(b, b.Read(t, dir), ws); msg != "" {
		t.Fatal(msg)
	}
}

func compare(b Backend, got, ws []Stored) string {
	count := map[string]int{}
	byKey := map[string]Stored{}
	for _, s := range got {
		count[s.key()]++
		byKey[s.key()] = s
	}
	var problems []string
	for _, w := range ws {
		s, n := byKey[w.key()], count[w.key()]
		switch {
		case n != 1:
			problems = append(problems, fmt.Sprintf("%s stored %d times", w.key(), n))
		case s.Hash != w.Hash:
			problems = append(problems, fmt.Sprintf("%s holds content %q, want %q", w.key(), s.Hash, w.Hash))
		case b.Flags && s.Reassigned != w.Reassigned:
			problems = append(problems, fmt.Sprintf("%s reassigned flag %v, want %v", w.key(), s.Reassigned, w.Reassigned))
		}
		delete(count, w.key())
	}
	for k, n := range count {
		problems = append(problems, fmt.Sprintf("%s stored %d times, want none", k, n))
	}
	sort.Strings(problems)
	if len(problems) == 0 {
		return ""
	}
	return fmt.Sprint(problems)
}

// crashAtomic: a write to a store with atomic writes either happened or did
// not, so a crash leaves the first k records stored, for every k; then the
// stream redelivers everything.
func crashAtomic(t *testing.T, b Backend) []string {
	var dirs []string
	all := deliveries()
	for k := 0; k <= len(all); k++ {
		dir := t.TempDir()
		w := b.Open(t, dir)
		deliver(t, w, deliveries()[:k])
		closeWriter(t, w)
		w = b.Open(t, dir)
		deliver(t, w, deliveries())
		closeWriter(t, w)
		if msg := compare(b, b.Read(t, dir), want); msg != "" {
			t.Fatalf("crash after %d writes: %s", k, msg)
		}
		dirs = append(dirs, dir)
	}
	return dirs
}

// snapshot is the content of the writer's files, by name relative to dir.
type snapshot map[string][]byte

func take(t *testing.T, b Backend, dir string) snapshot {
	t.Helper()
	s := snapshot{}
	for _, pattern := range b.Files {
		paths, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			s[filepath.Base(p)] = data
		}
	}
	return s
}

// changed lists the files that differ between two snapshots, in the order
// of b.Files.
func changed(t *testing.T, b Backend, before, after snapshot) []string {
	var names []string
	for _, pattern := range b.Files {
		var group []string
		for name, data := range after {
			if ok, _ := filepath.Match(pattern, name); ok && !bytes.Equal(before[name], data) {
				group = append(group, name)
			}
		}
		sort.Strings(group)
		names = append(names, group...)
	}
	return names
}

// crashFiles writes the deliveries through one writer, keeping the files
// after each write. For every write it then rebuilds the crash states that
// write can leave: the files it changed before the one it was writing hold
// their new content, the files after it their old, and the one in between
// is torn: its new bytes up to some offset, followed by whatever the old
// file had beyond (a write over closing tags), or, for a file that existed
// before, all its new bytes but a block that never reached the disk (zeros). From each state a writer is
// opened and every record redelivered.
func crashFiles(t *testing.T, b Backend) []string {
	base := t.TempDir()
	w := b.Open(t, base)
	snaps := []snapshot{take(t, b, base)}
	for _, a := range deliveries() {
		deliver(t, w, []*article.Article{a})
		snaps = append(snaps, take(t, b, base))
	}
	closeWriter(t, w)

	var dirs []string
	root := t.TempDir()
	for k := 1; k < len(snaps); k++ {
		before, after := snaps[k-1], snaps[k]
		names := changed(t, b, before, after)
		if len(names) == 0 {
			t.Fatalf("write %d changed none of %v", k, b.Files)
		}
		for i, torn := range names {
			for _, cut := range tears(before[torn], after[torn]) {
				state := snapshot{}
				for name, data := range before {
					state[name] = data
				}
				for _, name := range names[:i] {
					state[name] = after[name]
				}
				state[torn] = cut.data
				dir := filepath.Join(root, fmt.Sprintf("w%d-%s-%s", k, torn, cut.name))
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, data := range state {
					if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				w := b.Open(t, dir)
				deliver(t, w, deliveries())
				closeWriter(t, w)
				if msg := compare(b, b.Read(t, dir), want); msg != "" {
					t.Fatalf("crash in write %d (%s) with %s %s: %s", k, deliveries()[k-1].Key(), torn, cut.name, msg)
				}
				// A restart after the recovery changes nothing.
				w = b.Open(t, dir)
				deliver(t, w, deliveries())
				closeWriter(t, w)
				if msg := compare(b, b.Read(t, dir), want); msg != "" {
					t.Fatalf("restart after a crash in write %d with %s %s: %s", k, torn, cut.name, msg)
				}
				dirs = append(dirs, dir)
			}
		}
	}
	return dirs
}

type tear struct {
	name string
	data []byte
}

// tears are the contents a file can have after a crash while old became new.
func tears(old, new []byte) []tear {
	from := 0
	for from < len(old) && from < len(new) && old[from] == new[from] {
		from++
	}
	// Both ends of the change, two dozen points between, and both sides
	// of every line end (JSONL lines, index entries, TMX elements).
	offsets := map[int]bool{}
	for i := 0; i <= 3; i++ {
		offsets[min(from+i, len(new))] = true
		offsets[max(len(new)-i, from)] = true
	}
	for off := from; off < len(new); off += max(1, (len(new)-from)/24) {
		offsets[off] = true
	}
	for off := from; off < len(new); off++ {
		if new[off] == '\n' {
			offsets[off], offsets[off+1] = true, true
		}
	}
	var out []tear
	for off := range offsets {
		data := append([]byte(nil), new[:off]...)
		if off < len(old) {
			data = append(data, old[off:]...)
		}
		out = append(out, tear{fmt.Sprintf("cut-%d", off), data})
	}
	// A block of the new bytes that never reached the disk. Not in a file
	// the write created: its writer may have synced a header on its own
	// first, which nothing can tear afterwards.
	if n := len(new) - from; old != nil && n >= 8 {
		for _, at := range []int{from, from + n/3, from + n/2, len(new) - 8} {
			data := append([]byte(nil), new...)
			clear(data[at : at+min(8, len(new)-at)])
			out = append(out, tear{fmt.Sprintf("hole-%d", at), data})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
