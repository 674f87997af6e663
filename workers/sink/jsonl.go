package sink

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dewire/dewire/pipeline/article"
)

// JSONL appends records to <dir>/articles-YYYY-MM-DD.jsonl (the day the
// article was ingested, UTC, so a redelivery lands in the same file) and
// remembers every (id, rev) it wrote in <dir>/index.tsv. Concurrent writes
// share one fsync (group commit).
type JSONL struct {
	dir string

	mu       sync.Mutex
	written  map[string]bool // id@rev
	files    map[string]*os.File
	index    *os.File
	pending  []*pendingWrite
	flushing bool
}

type pendingWrite struct {
	key  string
	day  string
	line []byte
	done chan error
}

// OpenJSONL opens (creating) the folder and recovers the index: records
// written after the last index entry (a crash between the two writes) are
// indexed, and a torn last line is cut off.
func OpenJSONL(dir string) (*JSONL, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sink folder: %w", err)
	}
	j := &JSONL{dir: dir, written: map[string]bool{}, files: map[string]*os.File{}}
	covered, err := j.loadIndex()
	if err != nil {
		return nil, err
	}
	idx, err := os.OpenFile(filepath.Join(dir, "index.tsv"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sink index: %w", err)
	}
	j.index = idx
	if err := j.recover(covered); err != nil {
		idx.Close()
		return nil, err
	}
	return j, nil
}

// loadIndex reads index.tsv: "id@rev<TAB>file<TAB>end offset". It returns,
// per file, the end offset of the last indexed record.
func (j *JSONL) loadIndex() (map[string]int64, error) {
	covered := map[string]int64{}
	f, err := os.Open(filepath.Join(j.dir, "index.tsv"))
	if errors.Is(err, os.ErrNotExist) {
		return covered, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sink index: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != 3 {
			continue // a torn last line; recover() re-indexes its record
		}
		end, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil {
			continue
		}
		j.written[parts[0]] = true
		if end > covered[parts[1]] {
			covered[parts[1]] = end
		}
	}
	return covered, sc.Err()
}

func (j *JSONL) recover(covered map[string]int64) error {
	names, err := filepath.Glob(filepath.Join(j.dir, "articles-*.jsonl"))
	if err != nil {
		return err
	}
	sort.Strings(names)
	var idx bytes.Buffer
	for _, path := range names {
		name := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("sink recover %s: %w", name, err)
		}
		if n := bytes.LastIndexByte(data, '\n') + 1; n < len(data) {
			// Torn write: the record was never acknowledged, so it will be redelivered.
			if err := os.Truncate(path, int64(n)); err != nil {
				return fmt.Errorf("sink recover %s: %w", name, err)
			}
			data = data[:n]
		}
		off := covered[name]
		if off > int64(len(data)) {
			off = 0 // index from a different file generation: rescan all
		}
		for off < int64(len(data)) {
			end := off + int64(bytes.IndexByte(data[off:], '\n')) + 1
			var head struct {
				ID  string `json:"id"`
				Rev int    `json:"rev"`
			}
			if json.Unmarshal(data[off:end], &head) == nil && head.ID != "" {
				key := head.ID + "@" + strconv.Itoa(head.Rev)
				if !j.written[key] {
					j.written[key] = true
					fmt.Fprintf(&idx, "%s\t%s\t%d\n", key, name, end)
				}
			}
			off = end
		}
	}
	if idx.Len() == 0 {
		return nil
	}
	if _, err := j.index.Write(idx.Bytes()); err != nil {
		return fmt.Errorf("sink recover index: %w", err)
	}
	return j.index.Sync()
}

// Has reports whether (id, rev) was written.
func (j *JSONL) Has(id string, rev int) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.written[id+"@"+strconv.Itoa(rev)]
}

// Len is the number of records written.
func (j *JSONL) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.written)
}

// Write stores a unless its (id, rev) is already stored; it returns after
// the record and its index entry are on disk. written is false for a record
// that was already there.
func (j *JSONL) Write(a *article.Article) (written bool, err error) {
	line, err := json.Marshal(a)
	if err != nil {
		return false, fmt.Errorf("encode %s: %w", a.Key(), err)
	}
	line = append(line, '\n')
	day := a.Source.IngestedAt.UTC().Format(time.DateOnly)
	if a.Source.IngestedAt.IsZero() {
		day = time.Now().UTC().Format(time.DateOnly)
	}
	p := &pendingWrite{key: a.Key(), day: day, line: line, done: make(chan error, 1)}

	j.mu.Lock()
	if j.written[p.key] {
		j.mu.Unlock()
		return false, nil
	}
	for _, q := range j.pending {
		if q.key == p.key {
			j.mu.Unlock()
			return false, <-q.done // a concurrent redelivery of the same record
		}
	}
	j.pending = append(j.pending, p)
	lead := !j.flushing
	if lead {
		j.flushing = true
	}
	j.mu.Unlock()

	if lead {
		j.flushLoop()
	}
	if err := <-p.done; err != nil {
		return false, err
	}
	return true, nil
}

// flushLoop writes every pending record, fsyncs each touched file once,
// then the index, and repeats while more records queued up meanwhile.
func (j *JSONL) flushLoop() {
	for {
		j.mu.Lock()
		batch := j.pending
		j.pending = nil
		if len(batch) == 0 {
			j.flushing = false
			j.mu.Unlock()
			return
		}
		j.mu.Unlock()

		err := j.flush(batch)
		j.mu.Lock()
		for _, p := range batch {
			if err == nil {
				j.written[p.key] = true
			}
		}
		j.mu.Unlock()
		for _, p := range batch {
			p.done <- err
		}
	}
}

func (j *JSONL) flush(batch []*pendingWrite) error {
	byDay := map[string][]*pendingWrite{}
	for _, p := range batch {
		byDay[p.day] = append(byDay[p.day], p)
	}
	var idx bytes.Buffer
	for day, ps := range byDay {
		name := "articles-" + day + ".jsonl"
		f, err := j.file(name)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		for _, p := range ps {
			buf.Write(p.line)
		}
		st, err := f.Stat()
		if err != nil {
			return fmt.Errorf("sink %s: %w", name, err)
		}
		if _, err := f.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("sink write %s: %w", name, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sink fsync %s: %w", name, err)
		}
		end := st.Size()
		for _, p := range ps {
			end += int64(len(p.line))
			fmt.Fprintf(&idx, "%s\t%s\t%d\n", p.key, name, end)
		}
	}
	if _, err := j.index.Write(idx.Bytes()); err != nil {
		return fmt.Errorf("sink index write: %w", err)
	}
	if err := j.index.Sync(); err != nil {
		return fmt.Errorf("sink index fsync: %w", err)
	}
	return nil
}

func (j *JSONL) file(name string) (*os.File, error) {
	if f, ok := j.files[name]; ok {
		return f, nil
	}
	f, err := os.OpenFile(filepath.Join(j.dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sink open %s: %w", name, err)
	}
	j.files[name] = f
	return f, nil
}

// Close closes every file.
func (j *JSONL) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var errs []error
	for _, f := range j.files {
		errs = append(errs, f.Close())
	}
	errs = append(errs, j.index.Close())
	return errors.Join(errs...)
}

// ReadJSONL decodes every record in r (one JSON object per line).
func ReadJSONL(r io.Reader) ([]*article.Article, error) {
	var out []*article.Article
	dec := json.NewDecoder(r)
	for {
		var a article.Article
		if err := dec.Decode(&a); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return out, err
		}
		out = append(out, &a)
	}
}
