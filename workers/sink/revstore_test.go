package sink_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/sink"
)

// storeDeliveries are records over two days, with a second revision and
// other content under a stored (id, rev).
func storeDeliveries() []*article.Article {
	day1 := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	mk := func(id string, rev int, hash string, at time.Time) *article.Article {
		a := rec(id, rev)
		a.Hash, a.Source.IngestedAt = hash, at
		return a
	}
	return []*article.Article{
		mk("a", 1, "ha1", day1), mk("b", 1, "hb1", day1), mk("a", 2, "ha2", day1),
		mk("a", 2, "ha3", day1), mk("c", 1, "hc1", day2), mk("d", 1, "hd1", day2),
	}
}

var storeFiles = []string{"articles-*.jsonl", "index.tsv", "index.db"}

func snapshotDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	s := map[string][]byte{}
	for _, pattern := range storeFiles {
		paths, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			s[filepath.Base(p)] = b
		}
	}
	return s
}

// storedKeys reads every data file and returns each record key with how
// often it is there, and fails t unless every index line names a stored
// record at a line end.
func storedKeys(t *testing.T, dir string) map[string]int {
	t.Helper()
	count := map[string]int{}
	ends := map[string]map[int64]bool{}
	paths, _ := filepath.Glob(filepath.Join(dir, "articles-*.jsonl"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		ends[name] = map[int64]bool{}
		var off int64
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			off += int64(len(sc.Bytes())) + 1
			var r struct {
				ID  string `json:"id"`
				Rev int    `json:"rev"`
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: a line that is not a record: %q", name, sc.Bytes())
			}
			count[r.ID+"@"+strconv.Itoa(r.Rev)]++
			ends[name][off] = true
		}
	}
	idx, _ := os.ReadFile(filepath.Join(dir, "index.tsv"))
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSuffix(string(idx), "\n"), "\n") {
		if line == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		end, _ := strconv.ParseInt(cols[len(cols)-2], 10, 64)
		if len(cols) != 4 || count[cols[0]] == 0 || !ends[cols[1]][end] || seen[cols[0]] {
			t.Fatalf("index line %q does not name a stored record once", line)
		}
		seen[cols[0]] = true
	}
	if len(seen) != len(count) {
		t.Fatalf("index names %d records, the data holds %d", len(seen), len(count))
	}
	return count
}

// TestJSONLStoreBehindTheFilesCatchesUp builds every state a crash inside a
// write leaves when index.db is the last file a write changes: the store as
// before the write, the data and index.tsv anywhere between before and
// after (torn at every line end and between). Each state reopens, is sent
// every record again, and must hold each (id, rev) exactly once, also after
// a second restart.
func TestJSONLStoreBehindTheFilesCatchesUp(t *testing.T) {
	base := t.TempDir()
	j, err := sink.OpenJSONL(base)
	if err != nil {
		t.Fatal(err)
	}
	snaps := []map[string][]byte{snapshotDir(t, base)}
	for _, a := range storeDeliveries() {
		if _, err := j.Write(a); err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, snapshotDir(t, base))
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	want := storedKeys(t, base)

	states := 0
	for k := 1; k < len(snaps); k++ {
		before, after := snaps[k-1], snaps[k]
		var changed []string
		for name, data := range after {
			if name != "index.db" && !bytes.Equal(before[name], data) {
				changed = append(changed, name)
			}
		}
		sort.Strings(changed) // the data file, then index.tsv: the order a write takes
		for i, torn := range changed {
			for _, cut := range cuts(before[torn], after[torn]) {
				state := map[string][]byte{}
				for name, data := range before {
					state[name] = data
				}
				for _, name := range changed[:i] {
					state[name] = after[name]
				}
				state[torn] = cut
				dir := filepath.Join(t.TempDir(), fmt.Sprintf("w%d-%s-%d", k, torn, len(cut)))
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for name, data := range state {
					if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				for restart := range 2 {
					j, err := sink.OpenJSONL(dir)
					if err != nil {
						t.Fatalf("%s: open: %v", filepath.Base(dir), err)
					}
					for _, a := range storeDeliveries() {
						if _, err := j.Write(a); err != nil {
							t.Fatalf("%s: write %s: %v", filepath.Base(dir), a.Key(), err)
						}
					}
					n := j.Len()
					if err := j.Close(); err != nil {
						t.Fatal(err)
					}
					got := storedKeys(t, dir)
					if fmt.Sprint(got) != fmt.Sprint(want) || n != len(want) {
						t.Fatalf("%s, restart %d: stored %v (Len %d), want %v", filepath.Base(dir), restart, got, n, want)
					}
				}
				states++
			}
		}
	}
	t.Logf("%d crash states", states)
}

// cuts are the contents a file can have while old became new: new up to
// each line end and a few points between, then what old had beyond.
func cuts(old, new []byte) [][]byte {
	var out [][]byte
	for _, data := range crashCuts(old, new, func(offs map[int]bool, from int) {
		for off := from; off < len(new); off++ {
			if new[off] == '\n' {
				offs[off], offs[off+1] = true, true
			}
		}
	}) {
		out = append(out, data)
	}
	return out
}

// crashCuts are the contents a file can have while a write turned old into
// new, by where the write stopped: where they start to differ, the end, a
// few points between, and the offsets mark adds; then what old had beyond.
func crashCuts(old, new []byte, mark func(offs map[int]bool, from int)) map[int][]byte {
	from := 0
	for from < len(old) && from < len(new) && old[from] == new[from] {
		from++
	}
	offs := map[int]bool{from: true, len(new): true}
	for off := from; off < len(new); off += max(1, (len(new)-from)/7) {
		offs[off] = true
	}
	mark(offs, from)
	out := map[int][]byte{}
	for off := range offs {
		data := append([]byte(nil), new[:off]...)
		if off < len(old) {
			data = append(data, old[off:]...)
		}
		out[off] = data
	}
	return out
}

// TestJSONLStoreIsRebuiltWhenItDoesNotMatchTheIndex covers a store that is
// lost, and one left from another index: the sink answers from the files.
func TestJSONLStoreIsRebuiltWhenItDoesNotMatchTheIndex(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string, stale []byte)
	}{
		{"a deleted store", func(t *testing.T, dir string, _ []byte) {
			if err := os.Remove(filepath.Join(dir, "index.db")); err != nil {
				t.Fatal(err)
			}
		}},
		{"a store from an index since replaced by a longer one", func(t *testing.T, dir string, stale []byte) {
			if err := os.WriteFile(filepath.Join(dir, "index.db"), stale, 0o644); err != nil {
				t.Fatal(err)
			}
			// Same length prefix, other bytes: the store's tail no longer matches.
			idx := filepath.Join(dir, "index.tsv")
			b, _ := os.ReadFile(idx)
			lines := strings.SplitAfter(string(b), "\n")
			lines[0], lines[1] = lines[1], lines[0]
			if err := os.WriteFile(idx, []byte(strings.Join(lines, "")), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			j := open(t, dir)
			as := storeDeliveries()
			for _, a := range as[:2] {
				if _, err := j.Write(a); err != nil {
					t.Fatal(err)
				}
			}
			stale, err := os.ReadFile(filepath.Join(dir, "index.db"))
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as[2:] {
				if _, err := j.Write(a); err != nil {
					t.Fatal(err)
				}
			}
			j.Close()
			c.damage(t, dir, stale)
			j = open(t, dir)
			if rev, hash, ok := j.Latest("a"); rev != 3 || hash != "ha3" || !ok {
				t.Fatalf("Latest(a) = %d %q %v, want 3 ha3 true", rev, hash, ok)
			}
			if !j.Has("d", 1) || j.Len() != len(as) {
				t.Fatalf("Has(d, 1) %v, Len %d; want true, %d", j.Has("d", 1), j.Len(), len(as))
			}
			for _, a := range storeDeliveries() {
				if fresh, err := j.Write(a); err != nil || fresh {
					t.Fatalf("%s again: fresh %v, %v", a.Key(), fresh, err)
				}
			}
		})
	}
}
