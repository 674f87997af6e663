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
	"unicode"

	"github.com/dewire/dewire/pipeline/article"
)

// ErrInvalidRecord marks a record the sink can never store (an id it cannot
// index). Retrying it is pointless.
var ErrInvalidRecord = errors.New("sink: invalid record")

// ErrCorrupt is returned by OpenJSONL for a data file with a line that is
// not a record among records already acknowledged: not a torn write, which
// is only ever at the end, so it is left for an operator to look at.
var ErrCorrupt = errors.New("sink: corrupt data file")

// ErrClosed is returned by a write after Close.
var ErrClosed = errors.New("sink: closed")

const indexName = "index.tsv"

// JSONL appends records to <dir>/articles-YYYY-MM-DD.jsonl (the day the
// article was ingested, UTC, so a redelivery lands in the same file) and
// remembers every (id, rev) it wrote, with the record's content hash, in
// <dir>/index.tsv: "id@rev<TAB>file<TAB>end offset<TAB>hash". Concurrent
// writes share one fsync (group commit). Lookups go to <dir>/index.db, an
// on-disk copy of the index, so neither start-up nor memory grows with the
// archive.
type JSONL struct {
	dir string

	mu       sync.Mutex
	store    *revStore
	tail     []byte // index.tsv's last bytes, kept in the store to recognise it
	n        int
	files    map[string]*os.File
	index    *os.File
	indexEnd int64
	pending  []*pendingWrite
	inflight map[string]*pendingWrite // by id: one write per id at a time
	flushing bool
	closed   bool
	broken   error // set when a failed batch could not be taken back

	lines     sync.Pool // *bytes.Buffer: encoded records, reused once flushed
	data, idx []byte    // the flusher's buffers, reused batch to batch
}

// maxPooledLine is the largest encode buffer kept for reuse, and
// maxKeptBuffer the largest batch buffer.
const (
	maxPooledLine = 64 << 10
	maxKeptBuffer = 4 << 20
)

type pendingWrite struct {
	id   string
	rev  int
	hash string
	day  string
	line []byte
	buf  *bytes.Buffer // holds line
	done chan struct{} // closed when the write is over; err is set before
	err  error
}

type indexEntry struct {
	id   string
	rev  int
	file string
	end  int64
	hash string
	old  bool // a 3-column line, written before the index kept hashes
}

func (e indexEntry) line() string { return string(e.appendLine(nil)) }

// appendLine appends e's index.tsv line to b.
func (e indexEntry) appendLine(b []byte) []byte {
	b = append(b, e.id...)
	b = append(b, '@')
	b = strconv.AppendInt(b, int64(e.rev), 10)
	b = append(b, '\t')
	b = append(b, e.file...)
	b = append(b, '\t')
	b = strconv.AppendInt(b, e.end, 10)
	b = append(b, '\t')
	b = append(b, e.hash...)
	return append(b, '\n')
}

// OpenJSONL opens (creating) the folder and recovers the index: records
// written after the last index entry (a crash between the two writes) are
// indexed, a torn last line is cut off, index entries the data does not back
// are dropped, and an index written before it kept hashes is rebuilt with
// them.
func OpenJSONL(dir string) (*JSONL, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sink folder: %w", err)
	}
	j := &JSONL{dir: dir, files: map[string]*os.File{}, inflight: map[string]*pendingWrite{}}
	if err := j.open(); err != nil {
		if j.index != nil {
			j.index.Close()
		}
		if j.store != nil {
			j.store.close()
		}
		return nil, err
	}
	return j, nil
}

// open starts from the store when it matches index.tsv and reads only what
// the store has not seen: the end of the index and of each data file after
// its last indexed record. Anything else (no store, an index changed behind
// its back, data that no longer backs it) rebuilds the store from a full
// recovery.
func (j *JSONL) open() error {
	store, err := openRevStore(filepath.Join(j.dir, storeName))
	if err != nil {
		return err
	}
	j.store = store
	ok, err := j.recoverFromStore()
	if err != nil || ok {
		return err
	}
	if j.index != nil {
		j.index.Close()
		j.index = nil
	}
	return j.recover()
}

// readIndex reads index.tsv up to its first line that is not a complete
// entry (the torn tail of a crashed write). clean is false when the file
// must be rewritten: a torn or old-format line was found.
func readIndex(path string) (entries []indexEntry, clean bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sink index: %w", err)
	}
	clean = true
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	read := 0
	for sc.Scan() {
		read += len(sc.Bytes()) + 1
		e, ok := parseIndexLine(sc.Text())
		if !ok || read > len(b) { // unparsable, or the last line lacks its newline
			return entries, false, nil
		}
		clean = clean && !e.old
		entries = append(entries, e)
	}
	if sc.Err() != nil {
		return entries, false, nil
	}
	return entries, clean, nil
}

func parseIndexLine(s string) (indexEntry, bool) {
	parts := strings.Split(s, "\t")
	if len(parts) != 3 && len(parts) != 4 {
		return indexEntry{}, false
	}
	at := strings.LastIndexByte(parts[0], '@')
	if at < 1 {
		return indexEntry{}, false
	}
	rev, err := strconv.Atoi(parts[0][at+1:])
	if err != nil || rev < 1 {
		return indexEntry{}, false
	}
	end, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || end < 1 {
		return indexEntry{}, false
	}
	e := indexEntry{id: parts[0][:at], rev: rev, file: parts[1], end: end, old: len(parts) == 3}
	if !e.old {
		e.hash = parts[3]
	}
	if !indexable(e.id) || !indexable(e.hash) || !dataFileName(e.file) {
		return indexEntry{}, false
	}
	return e, true
}

// indexable reports whether s can stand in a column of index.tsv.
func indexable(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) < 0
}

func dataFileName(name string) bool {
	return strings.HasPrefix(name, "articles-") && strings.HasSuffix(name, ".jsonl") && !strings.ContainsAny(name, `/\`)
}

// recover reads the whole index and every data file, then rebuilds the
// store from them.
func (j *JSONL) recover() error {
	indexPath := filepath.Join(j.dir, indexName)
	entries, clean, err := readIndex(indexPath)
	if err != nil {
		return err
	}
	revs := revisions{}
	j.n = 0
	byFile := map[string][]indexEntry{}
	for _, e := range entries {
		byFile[e.file] = append(byFile[e.file], e)
	}
	names, err := filepath.Glob(filepath.Join(j.dir, "articles-*.jsonl"))
	if err != nil {
		return err
	}
	sort.Strings(names)
	var keep, fresh []indexEntry
	kept := 0
	for _, path := range names {
		name := filepath.Base(path)
		trusted, found, err := j.recoverFile(path, byFile[name], revs)
		if err != nil {
			return fmt.Errorf("sink recover %s: %w", name, err)
		}
		keep = append(keep, trusted...)
		fresh = append(fresh, found...)
		kept += len(trusted)
	}
	if kept != len(entries) {
		clean = false // entries for data that is not there (any more)
	}
	if !clean {
		// Rewrite the index whole; rename makes the switch atomic.
		var b bytes.Buffer
		for _, e := range append(keep, fresh...) {
			b.WriteString(e.line())
		}
		if err := writeFileSync(indexPath, b.Bytes()); err != nil {
			return fmt.Errorf("sink index rewrite: %w", err)
		}
		fresh = nil
	}
	idx, err := os.OpenFile(indexPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("sink index: %w", err)
	}
	j.index = idx
	st, err := idx.Stat()
	if err != nil {
		return fmt.Errorf("sink index: %w", err)
	}
	j.indexEnd = st.Size()
	if len(fresh) == 0 {
		err = syncDir(j.dir)
	} else {
		var b bytes.Buffer
		for _, e := range fresh {
			b.WriteString(e.line())
		}
		err = j.appendIndex(b.Bytes())
	}
	if err != nil {
		return err
	}
	if j.tail, err = readTail(indexPath, j.indexEnd); err != nil {
		return err
	}
	ends := map[string]int64{}
	for _, e := range append(keep, fresh...) {
		ends[e.file] = max(ends[e.file], e.end)
	}
	return j.store.rebuild(revs, storeState{applied: j.indexEnd, tail: j.tail, count: j.n, ends: ends})
}

// recoverFile checks one data file against its index entries. It returns
// the entries the data backs and entries for the records after them. A
// torn tail (a line without its newline, or bytes that are not a record,
// after the last indexed record) is cut off: a batch is indexed only once
// its data is synced, so that write was never acknowledged and will be
// redelivered.
func (j *JSONL) recoverFile(path string, entries []indexEntry, revs revisions) (trusted, found []indexEntry, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	size := len(data)
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	var start, acked int64
	rescan := false
	for _, e := range entries {
		backed := e.end <= int64(len(data)) && data[e.end-1] == '\n'
		if backed {
			acked = max(acked, e.end) // a record up to here was acknowledged
		}
		if rescan = rescan || e.old || !backed; !rescan {
			trusted = append(trusted, e)
			start = max(start, e.end)
		}
	}
	if rescan {
		// Not all backed by the data as it stands: index the file afresh.
		trusted, start = nil, 0
	}
	for _, e := range trusted {
		j.hold(revs, e.id, e.rev, e.hash)
	}
	name := filepath.Base(path)
	_, err = scanRecords(path, data, 0, int64(size), start, acked, func(id string, rev int, hash string, end int64) {
		if !revs.has(id, rev) {
			j.hold(revs, id, rev, hash)
			found = append(found, indexEntry{id: id, rev: rev, file: name, end: end, hash: hash})
		}
	})
	if err != nil {
		return nil, nil, err
	}
	return trusted, found, nil
}

// scanRecords reads the records of data from off on, calling fn with each
// one's head and end offset, and cuts the file at path after the last one:
// what follows is a torn write. A line that is not a record before acked
// (where records already acknowledged end) is ErrCorrupt. data is the file
// from byte base on; size is the file's size. It returns where the records
// end.
func scanRecords(path string, data []byte, base, size, off, acked int64, fn func(id string, rev int, hash string, end int64)) (int64, error) {
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	for off < base+int64(len(data)) {
		end := off + int64(bytes.IndexByte(data[off-base:], '\n')) + 1
		var head struct {
			ID   string `json:"id"`
			Rev  int    `json:"rev"`
			Hash string `json:"hash"`
		}
		if err := json.Unmarshal(data[off-base:end-base], &head); err != nil {
			if off < acked {
				return 0, fmt.Errorf("%w: line at byte %d, before records already acknowledged: %v", ErrCorrupt, off, err)
			}
			break
		}
		if head.ID != "" && head.Rev >= 1 && indexable(head.ID) && indexable(head.Hash) {
			fn(head.ID, head.Rev, head.Hash, end)
		}
		off = end
	}
	if off < size {
		if err := os.Truncate(path, off); err != nil {
			return 0, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return 0, err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return 0, err
		}
	}
	return off, nil
}

func (j *JSONL) hold(revs revisions, id string, rev int, hash string) {
	if !revs.has(id, rev) {
		j.n++
	}
	revs.add(id, rev, hash)
}

// Has reports whether (id, rev) was written.
func (j *JSONL) Has(id string, rev int) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	ok, err := j.store.has(id, rev)
	return ok && err == nil
}

// Latest returns the highest revision stored for id and its content hash,
// so that an ingest whose revision store was lost can continue counting
// from what the sink holds.
func (j *JSONL) Latest(id string) (rev int, hash string, ok bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	held, err := j.store.revs(id)
	if err != nil {
		return 0, "", false
	}
	return revisions{id: held}.latest(id)
}

// Len is the number of records written.
func (j *JSONL) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.n
}

// resolve says what Write would do with a now: the revision it would store
// it under, or dup when the content is stored already. A store that cannot
// be read says "not held": Write then fails on the same error before
// anything is stored.
func (j *JSONL) resolve(a *article.Article) (rev int, dup bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	held, err := j.store.revs(a.ID)
	if err != nil {
		return a.Rev, false
	}
	return ResolveRevision(held, a.Rev, a.Hash)
}

// Write stores a unless it is stored already; it returns after the record
// and its index entry are on disk. written is false for a record that was
// already there: the same (id, rev) with the same content hash, or (when the
// (id, rev) holds other content) any revision of id with that hash. Other
// content under a stored (id, rev) is written under the next free revision,
// flagged FlagRevisionReassigned; a itself is not changed.
func (j *JSONL) Write(a *article.Article) (written bool, err error) {
	if err := validRecord(a); err != nil {
		return false, err
	}
	p, err := j.claim(a)
	if p == nil || err != nil {
		return false, err
	}
	rec := a
	if p.rev != a.Rev {
		rec = Reassign(a, p.rev)
	}
	buf, _ := j.lines.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	line, err := article.Marshal(rec)
	if err != nil {
		j.finish([]*pendingWrite{p}, fmt.Errorf("encode %s: %w", rec.Key(), err))
		return false, p.err
	}
	buf.Write(line)
	buf.WriteByte('\n') // the record and its newline
	p.line, p.buf = buf.Bytes(), buf

	j.mu.Lock()
	j.pending = append(j.pending, p)
	lead := !j.flushing
	j.flushing = true
	j.mu.Unlock()
	if lead {
		j.flushLoop()
	}
	<-p.done
	return p.err == nil, p.err
}

// validRecord rejects a record whose id or hash cannot stand in index.tsv.
func validRecord(a *article.Article) error {
	if a.ID == "" || a.Rev < 1 || !indexable(a.ID) || !indexable(a.Hash) {
		return fmt.Errorf("%w: id %q rev %d hash %q", ErrInvalidRecord, a.ID, a.Rev, a.Hash)
	}
	return nil
}

// claim waits until no other write of a.ID is in flight, then reserves the
// id for a. It returns nil for a record that is stored already.
func (j *JSONL) claim(a *article.Article) (*pendingWrite, error) {
	day := a.Source.IngestedAt.UTC().Format(time.DateOnly)
	if a.Source.IngestedAt.IsZero() {
		day = time.Now().UTC().Format(time.DateOnly)
	}
	for {
		j.mu.Lock()
		if j.closed {
			j.mu.Unlock()
			return nil, ErrClosed
		}
		if q := j.inflight[a.ID]; q != nil {
			j.mu.Unlock()
			<-q.done // then decide again: it may have stored this very record
			continue
		}
		held, err := j.store.revs(a.ID)
		if err != nil {
			j.mu.Unlock()
			return nil, err
		}
		rev, dup := ResolveRevision(held, a.Rev, a.Hash)
		if dup {
			j.mu.Unlock()
			return nil, nil
		}
		p := &pendingWrite{id: a.ID, rev: rev, hash: a.Hash, day: day, done: make(chan struct{})}
		j.inflight[a.ID] = p
		j.mu.Unlock()
		return p, nil
	}
}

// finish records the outcome of writes and wakes everyone waiting on them.
func (j *JSONL) finish(batch []*pendingWrite, err error) {
	j.mu.Lock()
	for _, p := range batch {
		if err == nil {
			j.n++ // flush put it in the store
		}
		p.err = err
		delete(j.inflight, p.id)
	}
	j.mu.Unlock()
	for _, p := range batch {
		close(p.done)
	}
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
		for _, p := range batch {
			if p.buf.Cap() <= maxPooledLine {
				j.lines.Put(p.buf)
			}
			p.line, p.buf = nil, nil
		}
		j.finish(batch, err)
	}
}

func (j *JSONL) flush(batch []*pendingWrite) error {
	if j.broken != nil {
		return j.broken
	}
	byDay := map[string][]*pendingWrite{}
	for _, p := range batch {
		byDay[p.day] = append(byDay[p.day], p)
	}
	idx := j.idx[:0]
	defer func() {
		j.idx = idx[:0]
		if cap(j.data) > maxKeptBuffer {
			j.data = nil // a batch of unusually large records
		}
		if cap(j.idx) > maxKeptBuffer {
			j.idx = nil
		}
	}()
	entries := make([]indexEntry, 0, len(batch))
	ends := map[string]int64{}
	created := false
	var touched []written // to take back if the batch fails
	fail := func(err error) error {
		for _, w := range touched {
			if terr := w.f.Truncate(w.size); terr != nil {
				// The records may be on disk without this process knowing:
				// refuse writes until a reopen has recovered them.
				j.broken = fmt.Errorf("sink: %s cannot be rolled back, reopen to recover: %w", w.f.Name(), terr)
			}
		}
		return err
	}
	for day, ps := range byDay {
		name := "articles-" + day + ".jsonl"
		f, isNew, err := j.file(name)
		if err != nil {
			return fail(err)
		}
		created = created || isNew
		buf := j.data[:0]
		for _, p := range ps {
			buf = append(buf, p.line...)
		}
		j.data = buf[:0]
		st, err := f.Stat()
		if err != nil {
			return fail(fmt.Errorf("sink %s: %w", name, err))
		}
		touched = append(touched, written{f, st.Size()})
		if _, err := f.Write(buf); err != nil {
			return fail(fmt.Errorf("sink write %s: %w", name, err))
		}
		if err := f.Sync(); err != nil {
			return fail(fmt.Errorf("sink fsync %s: %w", name, err))
		}
		end := st.Size()
		for _, p := range ps {
			end += int64(len(p.line))
			e := indexEntry{id: p.id, rev: p.rev, file: name, end: end, hash: p.hash}
			entries = append(entries, e)
			idx = e.appendLine(idx)
		}
		ends[name] = end
	}
	if created {
		// A new file must survive a power loss before the index names it.
		if err := syncDir(j.dir); err != nil {
			return fail(fmt.Errorf("sink fsync %s: %w", j.dir, err))
		}
	}
	before := j.indexEnd
	if err := j.appendIndex(idx); err != nil {
		return fail(err)
	}
	tail := lastBytes(append(append([]byte(nil), j.tail...), idx...))
	j.mu.Lock()
	count := j.n + len(batch)
	j.mu.Unlock()
	if err := j.store.apply(entries, storeState{applied: j.indexEnd, tail: tail, count: count, ends: ends}); err != nil {
		// Not in the store, so not written: take the index entries back too.
		if terr := j.index.Truncate(before); terr != nil {
			j.broken = fmt.Errorf("sink: %s cannot be rolled back, reopen to recover: %w", j.index.Name(), terr)
		} else {
			j.indexEnd = before
		}
		return fail(err)
	}
	j.tail = tail
	return nil
}

// lastBytes is the end of an index that ends with b, as the store keeps it.
func lastBytes(b []byte) []byte {
	return b[max(0, len(b)-tailLen):]
}

// readTail reads the last bytes of the first size bytes of the file at path.
func readTail(path string, size int64) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) && size == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sink index: %w", err)
	}
	defer f.Close()
	b := make([]byte, min(size, tailLen))
	if _, err := f.ReadAt(b, size-int64(len(b))); err != nil {
		return nil, fmt.Errorf("sink index: %w", err)
	}
	return b, nil
}

// written is a data file and its size before a batch.
type written struct {
	f    *os.File
	size int64
}

func (j *JSONL) appendIndex(b []byte) error {
	if _, err := j.index.Write(b); err != nil {
		j.index.Truncate(j.indexEnd) // best effort; a reopen drops a torn line anyway
		return fmt.Errorf("sink index write: %w", err)
	}
	if err := j.index.Sync(); err != nil {
		return fmt.Errorf("sink index fsync: %w", err)
	}
	j.indexEnd += int64(len(b))
	return nil
}

func (j *JSONL) file(name string) (*os.File, bool, error) {
	if f, ok := j.files[name]; ok {
		return f, false, nil
	}
	path := filepath.Join(j.dir, name)
	_, err := os.Stat(path)
	isNew := errors.Is(err, os.ErrNotExist)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("sink open %s: %w", name, err)
	}
	j.files[name] = f
	return f, isNew, nil
}

// Close closes every file. Writes in flight finish first.
func (j *JSONL) Close() error {
	j.mu.Lock()
	j.closed = true
	var waits []chan struct{}
	for _, p := range j.inflight {
		waits = append(waits, p.done)
	}
	j.mu.Unlock()
	for _, w := range waits {
		<-w
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var errs []error
	for _, f := range j.files {
		errs = append(errs, f.Close())
	}
	j.files = map[string]*os.File{}
	if j.index != nil {
		errs = append(errs, j.index.Close())
		j.index = nil
	}
	if j.store != nil {
		errs = append(errs, j.store.close())
		j.store = nil
	}
	return errors.Join(errs...)
}

// writeFileSync replaces path with b atomically and durably.
func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
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

// recoverFromStore opens the folder from the store's state, reading only
// what came after it. ok is false (and nothing changed) when the store does
// not match the files: then the folder needs a full recovery.
func (j *JSONL) recoverFromStore() (ok bool, err error) {
	st, ok, err := j.store.state()
	if err != nil || !ok {
		return false, err
	}
	indexPath := filepath.Join(j.dir, indexName)
	fi, err := os.Stat(indexPath)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sink index: %w", err)
	}
	if fi.Size() < st.applied {
		return false, nil
	}
	if tail, err := readTail(indexPath, st.applied); err != nil || !bytes.Equal(tail, st.tail) {
		return false, err
	}
	// The entries after the store's (a crash between the index and the
	// store), up to a torn one.
	entries, cut, err := readIndexFrom(indexPath, st.applied)
	if err != nil || cut < 0 {
		return false, err
	}
	pending := revisions{}
	var fresh []indexEntry
	for _, e := range entries {
		held, err := j.store.has(e.id, e.rev)
		if err != nil {
			return false, err
		}
		if !held && !pending.has(e.id, e.rev) {
			pending.add(e.id, e.rev, e.hash)
			fresh = append(fresh, e)
		}
		st.ends[e.file] = max(st.ends[e.file], e.end)
	}
	// Every indexed record must still be there; then the records after the
	// last one are the only ones to read.
	names, err := filepath.Glob(filepath.Join(j.dir, "articles-*.jsonl"))
	if err != nil {
		return false, err
	}
	sizes := map[string]int64{}
	for _, path := range names {
		fi, err := os.Stat(path)
		if err != nil {
			return false, fmt.Errorf("sink recover: %w", err)
		}
		sizes[filepath.Base(path)] = fi.Size()
	}
	for name, end := range st.ends {
		if size, there := sizes[name]; !there || size < end || !endsLine(filepath.Join(j.dir, name), end) {
			return false, nil
		}
	}
	found := 0
	sort.Strings(names)
	for _, path := range names {
		name := filepath.Base(path)
		from := st.ends[name]
		if from == sizes[name] {
			continue
		}
		data, err := readFrom(path, from)
		if err != nil {
			return false, fmt.Errorf("sink recover %s: %w", name, err)
		}
		var scanErr error
		_, err = scanRecords(path, data, from, sizes[name], from, from, func(id string, rev int, hash string, end int64) {
			held, err := j.store.has(id, rev)
			if err != nil {
				scanErr = err
			}
			if !held && !pending.has(id, rev) {
				pending.add(id, rev, hash)
				e := indexEntry{id: id, rev: rev, file: name, end: end, hash: hash}
				fresh = append(fresh, e)
				found++
			}
		})
		if err = errors.Join(err, scanErr); err != nil {
			return false, fmt.Errorf("sink recover %s: %w", name, err)
		}
	}

	if cut < fi.Size() {
		// A torn last entry: its batch was never acknowledged.
		if err := truncateSync(indexPath, cut); err != nil {
			return false, fmt.Errorf("sink index: %w", err)
		}
	}
	idx, err := os.OpenFile(indexPath, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return false, fmt.Errorf("sink index: %w", err)
	}
	j.index, j.indexEnd = idx, cut
	if j.tail, err = readTail(indexPath, cut); err != nil {
		return false, err
	}
	if found > 0 {
		var b bytes.Buffer
		for _, e := range fresh[len(fresh)-found:] {
			b.WriteString(e.line())
			st.ends[e.file] = max(st.ends[e.file], e.end)
		}
		if err := j.appendIndex(b.Bytes()); err != nil {
			return false, err
		}
		j.tail = lastBytes(append(j.tail, b.Bytes()...))
	}
	j.n = st.count + len(fresh)
	if len(fresh) > 0 || j.indexEnd != st.applied {
		st.applied, st.tail, st.count = j.indexEnd, j.tail, j.n
		if err := j.store.apply(fresh, st); err != nil {
			return false, err
		}
	}
	return true, nil
}

// readIndexFrom reads the index entries from byte off on. cut is where the
// complete entries end, or -1 when one of them is from before the index
// kept hashes (the index must then be rewritten).
func readIndexFrom(path string, off int64) (entries []indexEntry, cut int64, err error) {
	b, err := readFrom(path, off)
	if err != nil {
		return nil, 0, fmt.Errorf("sink index: %w", err)
	}
	cut = off
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			break
		}
		e, ok := parseIndexLine(string(b[:nl]))
		if !ok {
			break
		}
		if e.old {
			return nil, -1, nil
		}
		entries = append(entries, e)
		cut += int64(nl) + 1
		b = b[nl+1:]
	}
	return entries, cut, nil
}

// readFrom reads the file at path from byte off to its end.
func readFrom(path string, off int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}

// endsLine reports whether the file at path has a line end just before end
// (or end is 0).
func endsLine(path string, end int64) bool {
	if end == 0 {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, 1)
	_, err = f.ReadAt(b, end-1)
	return err == nil && b[0] == '\n'
}

func truncateSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// ReadDir decodes every record of the articles-*.jsonl files in dir, in
// file-name (day) order.
func ReadDir(dir string) ([]*article.Article, error) {
	files, err := filepath.Glob(filepath.Join(dir, "articles-*.jsonl"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var all []*article.Article
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return all, err
		}
		recs, err := ReadJSONL(fh)
		fh.Close()
		all = append(all, recs...)
		if err != nil {
			return all, fmt.Errorf("%s: %w", f, err)
		}
	}
	return all, nil
}
