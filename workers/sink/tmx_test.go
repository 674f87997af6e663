package sink_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/record"
	"github.com/dewire/dewire/workers/sink"
	"github.com/dewire/dewire/workers/sink/sinktest"
)

const tmxStore = "tmx-index.db"

var tmxDay1 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// tmxRecord is a record of three sentence pairs, as readTMX expects.
func tmxRecord(id string, rev int, hash string, at time.Time) *article.Article {
	title := "Titel " + id + " " + hash
	return &article.Article{
		Schema: article.Schema, ID: id, Rev: rev, Hash: hash,
		Source: article.Source{Name: "wire", IngestedAt: at},
		DE:     article.Text{Title: title, Paragraphs: []string{"Erster Satz. Zweiter Satz."}},
		Segments: []article.Segment{
			{Para: article.ParaTitle, DE: title, EN: "Title " + id + " " + hash},
			{Para: 0, DE: "Erster Satz.", EN: "First sentence."},
			{Para: 0, DE: "Zweiter Satz.", EN: "Second sentence."},
		},
	}
}

// tmxDeliveries are records over two days, with a second revision and
// other content under a stored (id, rev), which must be kept as a@3.
func tmxDeliveries() []*article.Article {
	day2 := tmxDay1.Add(24 * time.Hour)
	return []*article.Article{
		tmxRecord("a", 1, "ha1", tmxDay1), tmxRecord("b", 1, "hb1", tmxDay1), tmxRecord("a", 2, "ha2", tmxDay1),
		tmxRecord("a", 2, "ha3", tmxDay1), tmxRecord("c", 1, "hc1", day2), tmxRecord("d", 1, "hd1", day2),
	}
}

var tmxWant = []sinktest.Stored{
	{ID: "a", Rev: 1, Hash: "ha1"}, {ID: "b", Rev: 1, Hash: "hb1"}, {ID: "a", Rev: 2, Hash: "ha2"},
	{ID: "a", Rev: 3, Hash: "ha3"}, {ID: "c", Rev: 1, Hash: "hc1"}, {ID: "d", Rev: 1, Hash: "hd1"},
}

func openTMXAt(t *testing.T, dir string) *sink.TMX {
	t.Helper()
	w, err := sink.OpenTMX(dir, record.TMXHeader{CreationToolVersion: "test"})
	if err != nil {
		t.Fatalf("OpenTMX %s: %v", filepath.Base(dir), err)
	}
	return w
}

func writeTMX(t *testing.T, w *sink.TMX, as []*article.Article) {
	t.Helper()
	for _, a := range as {
		if err := w.Write(context.Background(), a); err != nil {
			t.Fatalf("write %s: %v", a.Key(), err)
		}
	}
}

// holdsOnce fails t unless the TMX files in dir hold each of want once, and
// nothing else.
func holdsOnce(t *testing.T, dir string, want []sinktest.Stored) {
	t.Helper()
	var got, exp []string
	for _, s := range readTMX(t, dir) {
		got = append(got, fmt.Sprintf("%s@%d:%s", s.ID, s.Rev, s.Hash))
	}
	for _, s := range want {
		exp = append(exp, fmt.Sprintf("%s@%d:%s", s.ID, s.Rev, s.Hash))
	}
	sort.Strings(got)
	sort.Strings(exp)
	if fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("%s holds %v, want each of %v once", filepath.Base(dir), got, exp)
	}
}

// tmxSnapshot is the TMX files and the index of a folder.
func tmxSnapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	s := map[string][]byte{}
	paths, _ := filepath.Glob(filepath.Join(dir, "articles-*.tmx"))
	for _, p := range append(paths, filepath.Join(dir, tmxStore)) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s[filepath.Base(p)] = b
	}
	return s
}

func writeFolder(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// tmxCuts are the contents a TMX file can have while old became new: new
// up to each unit's end and either side of it, and a few points between,
// then what old had beyond (the closing tags the append wrote over).
func tmxCuts(old, new []byte) map[int][]byte {
	return crashCuts(old, new, func(offs map[int]bool, from int) {
		for i := from; ; {
			n := bytes.Index(new[i:], []byte("</tu>\n"))
			if n < 0 {
				return
			}
			i += n + len("</tu>\n")
			offs[i-1], offs[i], offs[min(i+1, len(new))] = true, true, true
		}
	})
}

// TestTMXIndexBehindTheFilesCatchesUp builds the states a crash inside a
// write leaves while the index lags the files: the TMX file the write
// appends to torn anywhere between before and after, with the index as the
// previous write left it (a crash between the append and the index
// update), as an earlier write left it (the index catches up only now and
// then), or missing. Each state reopens, is sent every record again, and
// must hold each (id, rev) exactly once as valid TMX, also after a restart.
func TestTMXIndexBehindTheFilesCatchesUp(t *testing.T) {
	base := t.TempDir()
	w := openTMXAt(t, base)
	snaps := []map[string][]byte{}
	for _, a := range append([]*article.Article{nil}, tmxDeliveries()...) {
		if a != nil {
			writeTMX(t, w, []*article.Article{a})
		}
		// Closing brings the index up to date: each snapshot is the folder
		// with an index that has caught up with its files.
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, tmxSnapshot(t, base))
		w = openTMXAt(t, base)
	}
	w.Close()
	holdsOnce(t, base, tmxWant)

	var dirs []string
	root := t.TempDir()
	for k := 1; k < len(snaps); k++ {
		before, after := snaps[k-1], snaps[k]
		var torn string
		for name, data := range after {
			if name != tmxStore && !bytes.Equal(before[name], data) {
				torn = name
			}
		}
		if torn == "" {
			t.Fatalf("write %d changed no TMX file", k)
		}
		stores := map[string][]byte{"index-missing": nil, "index-one-behind": before[tmxStore], "index-at-start": snaps[0][tmxStore]}
		for storeCase, store := range stores {
			for off, data := range tmxCuts(before[torn], after[torn]) {
				state := map[string][]byte{}
				for name, b := range before {
					if name != tmxStore {
						state[name] = b
					}
				}
				state[torn] = data
				if store != nil {
					state[tmxStore] = store
				}
				dir := filepath.Join(root, fmt.Sprintf("w%d-%s-cut%d", k, storeCase, off))
				writeFolder(t, dir, state)
				for range 2 { // the recovery, then a restart after it
					w := openTMXAt(t, dir)
					writeTMX(t, w, tmxDeliveries())
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					holdsOnce(t, dir, tmxWant)
				}
				dirs = append(dirs, dir)
			}
		}
	}
	t.Logf("%d crash states", len(dirs))
	dtdValid(t, dirs)
}

// TestTMXIndexIsRebuiltWhenItDoesNotMatchTheFiles covers indexes that
// cannot be trusted: the writer answers from the files instead.
func TestTMXIndexIsRebuiltWhenItDoesNotMatchTheFiles(t *testing.T) {
	day2 := "articles-2026-11-25.tmx"
	cases := []struct {
		name string
		// damage changes the folder, which holds every delivery, given
		// the folder after the first two.
		damage func(t *testing.T, dir string, early map[string][]byte)
		// want is what the files hold after damage, before redelivery.
		want []sinktest.Stored
	}{
		{"a deleted index", func(t *testing.T, dir string, _ map[string][]byte) {
			if err := os.Remove(filepath.Join(dir, tmxStore)); err != nil {
				t.Fatal(err)
			}
		}, tmxWant},
		{"an index that is not a database", func(t *testing.T, dir string, _ map[string][]byte) {
			if err := os.WriteFile(filepath.Join(dir, tmxStore), bytes.Repeat([]byte("not bbolt "), 1000), 0o644); err != nil {
				t.Fatal(err)
			}
		}, tmxWant},
		{"a file restored from an earlier backup", func(t *testing.T, dir string, early map[string][]byte) {
			for name, data := range early {
				if name != tmxStore {
					writeFolder(t, dir, map[string][]byte{name: data})
				}
			}
		}, append(tmxWant[:2:2], tmxWant[4:]...)},
		{"a file deleted", func(t *testing.T, dir string, _ map[string][]byte) {
			if err := os.Remove(filepath.Join(dir, day2)); err != nil {
				t.Fatal(err)
			}
		}, tmxWant[:4]},
		{"a file replaced by another folder's", func(t *testing.T, dir string, _ map[string][]byte) {
			other := t.TempDir()
			w := openTMXAt(t, other)
			writeTMX(t, w, []*article.Article{tmxRecord("x", 1, "hx1", tmxDay1.Add(24*time.Hour)), tmxRecord("y", 1, "hy1", tmxDay1.Add(24*time.Hour))})
			w.Close()
			b, err := os.ReadFile(filepath.Join(other, day2))
			if err != nil {
				t.Fatal(err)
			}
			writeFolder(t, dir, map[string][]byte{day2: b})
		}, append(tmxWant[:4:4], sinktest.Stored{ID: "x", Rev: 1, Hash: "hx1"}, sinktest.Stored{ID: "y", Rev: 1, Hash: "hy1"})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			w := openTMXAt(t, dir)
			writeTMX(t, w, tmxDeliveries()[:2])
			w.Close()
			early := tmxSnapshot(t, dir)
			w = openTMXAt(t, dir)
			writeTMX(t, w, tmxDeliveries()[2:])
			w.Close()
			c.damage(t, dir, early)
			w = openTMXAt(t, dir)
			latest := map[string]int{}
			for _, h := range c.want {
				latest[h.ID] = max(latest[h.ID], h.Rev)
			}
			for _, id := range []string{"a", "b", "c", "d", "x", "y"} {
				if rev, _, ok := w.Latest(id); rev != latest[id] || ok != (latest[id] > 0) {
					t.Errorf("Latest(%s) = %d, %v; the files hold %v", id, rev, ok, c.want)
				}
			}
			// A redelivery writes what the files lack, once.
			writeTMX(t, w, tmxDeliveries())
			writeTMX(t, w, tmxDeliveries())
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			want := c.want
			for _, s := range tmxWant {
				found := false
				for _, h := range want {
					found = found || h == s
				}
				if !found {
					want = append(want, s)
				}
			}
			holdsOnce(t, dir, want)
		})
	}
}

// TestTMXOpenReadsOnlyWhatFollowsTheLastIndexedUnit damages a unit the
// index covers: an open with the index does not read it (so it does not
// notice), one without reads every file and refuses the damaged one.
func TestTMXOpenReadsOnlyWhatFollowsTheLastIndexedUnit(t *testing.T) {
	dir := t.TempDir()
	w := openTMXAt(t, dir)
	writeTMX(t, w, tmxDeliveries()[:4])
	w.Close()
	path := filepath.Join(dir, "articles-2026-11-24.tmx")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(b), `<tu tuid="b@1#2"`)
	b[i+5] = 0 // inside b@1, with two records after it
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}

	w = openTMXAt(t, dir)
	if rev, hash, ok := w.Latest("b"); !ok || rev != 1 || hash != "hb1" {
		t.Fatalf("Latest(b) = %d %q %v, want 1 hb1 true", rev, hash, ok)
	}
	writeTMX(t, w, tmxDeliveries()) // a@1 … a@3 are held: only day 2 is written
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, b) {
		t.Fatal("the indexed file was written to")
	}

	if err := os.Remove(filepath.Join(dir, tmxStore)); err != nil {
		t.Fatal(err)
	}
	if _, err := sink.OpenTMX(dir, record.TMXHeader{}); !errors.Is(err, record.ErrTMXCorrupt) {
		t.Fatalf("OpenTMX without its index = %v, want ErrTMXCorrupt", err)
	}
}

// TestTMXCrashBeforeTheIndexCaughtUp copies a folder while its writer is
// still open, well past the point where the index last caught up with the
// files (ten of them, more than the writer keeps open): the copy, opened as
// after a crash, holds every record once and takes none of them again.
func TestTMXCrashBeforeTheIndexCaughtUp(t *testing.T) {
	dir := t.TempDir()
	w := openTMXAt(t, dir)
	defer w.Close()
	var as []*article.Article
	var want []sinktest.Stored
	for i := range 300 {
		id := fmt.Sprintf("r%03d", i)
		as = append(as, tmxRecord(id, 1, "h"+id, tmxDay1.Add(time.Duration(i%10)*24*time.Hour)))
		want = append(want, sinktest.Stored{ID: id, Rev: 1, Hash: "h" + id})
	}
	writeTMX(t, w, as)
	crashed := filepath.Join(t.TempDir(), "crashed")
	writeFolder(t, crashed, tmxSnapshot(t, dir))

	c := openTMXAt(t, crashed)
	for _, a := range as {
		if rev, hash, ok := c.Latest(a.ID); !ok || rev != 1 || hash != a.Hash {
			t.Fatalf("Latest(%s) = %d %q %v after the crash", a.ID, rev, hash, ok)
		}
	}
	writeTMX(t, c, as)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	holdsOnce(t, crashed, want)
	dtdValid(t, []string{crashed})
}
