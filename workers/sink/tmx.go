package sink

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/record"
)

// tmxStoreName is the TMX files' on-disk lookup of every (id, rev) they
// hold and of where each file's indexed records end: a cache of the files,
// which stay the record of truth, rebuilt from them whenever it does not
// match them.
const tmxStoreName = "tmx-index.db"

// tmxStoreLag is how many records the store may lag the files by. Every
// record is synced in its file before Write returns (one sync serving every
// writer waiting at the time); the store catches up
// every tmxStoreLag records and on Close, and a crash before that costs a
// read of the files after their marks, which is what the store would lag
// after any crash between a file and the store.
const tmxStoreLag = 256

// maxOpenTMXFiles bounds the files kept open for writing; reopening one
// reads only its end.
const maxOpenTMXFiles = 8

var (
	bucketMarks = []byte("marks")    // TMX file name → mark: end (8 bytes, big endian), then tail
	keyComplete = []byte("complete") // in bucketMeta: the store covers every file
)

// TMX writes the sentence pairs of each record to <dir>/articles-YYYY-MM-DD.tmx
// (the day of ingestion, like the JSONL). Records without segments (no
// engine) add nothing. Every file on disk is valid TMX 1.4b after each
// record, and each (id, rev) is in the files once: the units carry their
// record key, and <dir>/tmx-index.db keeps the keys the files hold and how
// far each file is indexed, so that opening reads only what follows, and
// neither start-up nor memory grows with the archive.
type TMX struct {
	dir    string
	header record.TMXHeader

	mu      sync.Mutex
	store   *revStore
	files   map[string]*record.TMXFile // opened for writing
	marks   map[string]record.TMXMark  // every file's mark
	dirty   map[string]bool            // files whose mark the store lacks
	pending []indexEntry               // records written since the store last caught up
	held    revisions                  // the same, by id
	closed  bool

	// Group commit: a record is appended under mu without a sync, then its
	// writer waits until a sync covers it; whoever syncs first syncs every
	// file written so far, for all the writers behind it.
	written  uint64                     // appends so far
	synced   uint64                     // appends a sync has covered
	unsynced map[string]*record.TMXFile // files appended to since their last sync
	broken   error                      // a failed sync: records may be missing that are indexed
}

// OpenTMX opens the TMX files in dir (repairing one torn by a crash) and
// their index, rebuilding it from the files when it does not match them.
func OpenTMX(dir string, h record.TMXHeader) (*TMX, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tmx folder: %w", err)
	}
	store, err := openTMXStore(filepath.Join(dir, tmxStoreName))
	if err != nil {
		return nil, fmt.Errorf("tmx: %w", err)
	}
	t := &TMX{dir: dir, header: h, store: store, files: map[string]*record.TMXFile{}, dirty: map[string]bool{}, held: revisions{}, unsynced: map[string]*record.TMXFile{}}
	if err := t.open(); err != nil {
		store.close()
		return nil, err
	}
	return t, nil
}

// openTMXStore opens the store at path; one that is not a store at all
// (damaged beyond what bbolt recovers) is replaced by an empty one, which
// the files then fill.
func openTMXStore(path string) (*revStore, error) {
	s, err := openRevStore(path)
	if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("sink index store: %w", err)
		}
		s, err = openRevStore(path)
	}
	return s, err
}

func (t *TMX) open() error {
	names, err := filepath.Glob(filepath.Join(t.dir, "articles-*.tmx"))
	if err != nil {
		return fmt.Errorf("tmx folder: %w", err)
	}
	sort.Strings(names)
	for i, path := range names {
		names[i] = filepath.Base(path)
	}
	marks, ok, err := t.storedMarks()
	if err != nil {
		return err
	}
	if ok {
		if ok, err = t.resume(names, marks); err != nil || ok {
			return err
		}
	}
	return t.rebuild(names)
}

// storedMarks reads the marks of a complete store; ok is false for one that
// was never completed (new, or a rebuild cut short).
func (t *TMX) storedMarks() (marks map[string]record.TMXMark, ok bool, err error) {
	err = t.store.db.View(func(tx *bolt.Tx) error {
		meta, b := tx.Bucket(bucketMeta), tx.Bucket(bucketMarks)
		if meta == nil || b == nil || meta.Get(keyComplete) == nil {
			return nil
		}
		marks, ok = map[string]record.TMXMark{}, true
		return b.ForEach(func(k, v []byte) error {
			if len(v) < 8 {
				ok = false
				return nil
			}
			marks[string(k)] = record.TMXMark{End: int64(binary.BigEndian.Uint64(v)), Tail: bytes.Clone(v[8:])}
			return nil
		})
	})
	if err != nil {
		return nil, false, fmt.Errorf("tmx index store: %w", err)
	}
	return marks, ok, nil
}

func putMarks(tx *bolt.Tx, marks map[string]record.TMXMark) error {
	b, err := tx.CreateBucketIfNotExists(bucketMarks)
	if err != nil {
		return err
	}
	for name, m := range marks {
		if err := b.Put([]byte(name), append(binary.BigEndian.AppendUint64(nil, uint64(m.End)), m.Tail...)); err != nil {
			return err
		}
	}
	return nil
}

// resume opens every file from its stored mark, reading only what follows
// (a file the store does not know is read whole), and adds the records
// found there to the store. ok is false when the store does not match the
// files: a file it indexed is gone or no longer holds its mark.
func (t *TMX) resume(names []string, marks map[string]record.TMXMark) (ok bool, err error) {
	there := map[string]bool{}
	for _, name := range names {
		there[name] = true
	}
	for name := range marks {
		if !there[name] {
			return false, nil
		}
	}
	var fresh []indexEntry
	moved := map[string]record.TMXMark{}
	for _, name := range names {
		m, err := t.check(name, marks[name], func(e indexEntry) error {
			fresh = append(fresh, e)
			return nil
		})
		if errors.Is(err, record.ErrTMXMarkMismatch) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if m.End != marks[name].End || !bytes.Equal(m.Tail, marks[name].Tail) {
			moved[name] = m
		}
		marks[name] = m
	}
	if len(fresh) > 0 || len(moved) > 0 {
		if err := t.store.update(fresh, func(tx *bolt.Tx) error { return putMarks(tx, moved) }); err != nil {
			return false, fmt.Errorf("tmx: %w", err)
		}
	}
	t.marks = marks
	return true, nil
}

// rebuild replaces the store with what the files hold, a file at a time.
func (t *TMX) rebuild(names []string) error {
	if err := t.store.reset(); err != nil {
		return fmt.Errorf("tmx: %w", err)
	}
	defer func() { t.store.db.NoSync = false }()
	marks := map[string]record.TMXMark{}
	const batch = 100_000
	var entries []indexEntry
	load := func() error {
		sortEntries(entries)
		err := t.store.load(entries)
		entries = entries[:0]
		return err
	}
	for _, name := range names {
		m, err := t.check(name, record.TMXMark{}, func(e indexEntry) error {
			entries = append(entries, e)
			if len(entries) < batch {
				return nil
			}
			return load()
		})
		if err != nil {
			return err
		}
		if err := load(); err != nil {
			return fmt.Errorf("tmx: %w", err)
		}
		marks[name] = m
	}
	err := t.store.seal(func(tx *bolt.Tx) error {
		if err := putMarks(tx, marks); err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return meta.Put(keyComplete, []byte{1})
	})
	if err != nil {
		return fmt.Errorf("tmx: %w", err)
	}
	t.marks = marks
	return nil
}

// check opens the file name from mark, repairing a torn tail, passes each
// record after the mark to found, and returns the file's mark.
func (t *TMX) check(name string, mark record.TMXMark, found func(indexEntry) error) (record.TMXMark, error) {
	f, err := record.OpenTMXFile(filepath.Join(t.dir, name), t.header, mark, func(r record.TMXRecord) error {
		return found(indexEntry{id: r.ID, rev: r.Rev, hash: r.Hash})
	})
	if err != nil {
		return record.TMXMark{}, err
	}
	m := f.Mark()
	if err := f.Close(); err != nil {
		return record.TMXMark{}, fmt.Errorf("tmx %s: %w", name, err)
	}
	return m, nil
}

// revs returns what the files hold of id: the store's revisions and those
// written since it last caught up.
func (t *TMX) revs(id string) (revisions, error) {
	stored, err := t.store.revs(id)
	if err != nil {
		return nil, fmt.Errorf("tmx: %w", err)
	}
	held := revisions{id: stored}
	for rev, hash := range t.held[id] {
		held.add(id, rev, hash)
	}
	return held, nil
}

// Write implements Writer. A record whose (id, rev) the files hold with
// other content is stored under the next free revision, like JSONL does.
func (t *TMX) Write(_ context.Context, a *article.Article) error {
	if len(a.Segments) == 0 {
		return nil
	}
	if err := validRecord(a); err != nil {
		return err
	}
	at := a.Source.IngestedAt
	if at.IsZero() {
		at = time.Now()
	}
	name := "articles-" + at.UTC().Format(time.DateOnly) + ".tmx"
	seq, err := t.append(a, name)
	if err != nil {
		return err
	}
	return t.syncThrough(seq)
}

// append adds a to the file name unless the files hold it, and returns how
// many appends a sync must cover for it to be durable (for a record held
// already, all so far: its first copy may not be synced yet).
func (t *TMX) append(a *article.Article, name string) (uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return 0, ErrClosed
	}
	if t.broken != nil {
		return 0, t.broken
	}
	held, err := t.revs(a.ID)
	if err != nil {
		return 0, err
	}
	rev, dup := held.resolve(a.ID, a.Rev, a.Hash)
	if dup {
		return t.written, nil
	}
	rec := a
	if rev != a.Rev {
		rec = Reassign(a, rev)
	}
	f, err := t.file(name)
	if err != nil {
		return 0, err
	}
	mark, err := f.AppendUnsynced(rec)
	if err != nil {
		return 0, fmt.Errorf("tmx %s: %w", rec.Key(), err)
	}
	t.written++
	t.unsynced[name] = f
	t.marks[name], t.dirty[name] = mark, true
	t.held.add(rec.ID, rec.Rev, rec.Hash)
	t.pending = append(t.pending, indexEntry{id: rec.ID, rev: rec.Rev, hash: rec.Hash})
	if len(t.pending) >= tmxStoreLag {
		return t.written, t.catchUp()
	}
	return t.written, nil
}

// syncThrough returns once the first seq appends are durable, syncing every
// file appended to unless a sync since covered them.
func (t *TMX) syncThrough(seq uint64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.synced >= seq {
		return nil
	}
	if t.broken != nil {
		return t.broken
	}
	return t.syncFiles()
}

// syncFiles syncs every file appended to since its last sync. A failure
// breaks the writer: records it indexed may not be on disk, so it takes no
// more until reopened, which reads the files again.
func (t *TMX) syncFiles() error {
	for name, f := range t.unsynced {
		if err := f.Sync(); err != nil {
			t.broken = fmt.Errorf("sink: tmx %s not synced, reopen to recover: %w", name, err)
			return t.broken
		}
		delete(t.unsynced, name)
	}
	t.synced = t.written
	return nil
}

// file returns the open file name, opening it from its mark (creating it
// when there is none).
func (t *TMX) file(name string) (*record.TMXFile, error) {
	if f, ok := t.files[name]; ok {
		return f, nil
	}
	if len(t.files) >= maxOpenTMXFiles {
		if err := t.syncFiles(); err != nil {
			return nil, err
		}
		var errs []error
		for _, f := range t.files {
			errs = append(errs, f.Close())
		}
		clear(t.files)
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("tmx: %w", err)
		}
	}
	// This writer holds the store, so nothing follows the mark: anything
	// found there would be another writer's, and is indexed all the same.
	f, err := record.OpenTMXFile(filepath.Join(t.dir, name), t.header, t.marks[name], func(r record.TMXRecord) error {
		t.held.add(r.ID, r.Rev, r.Hash)
		t.pending = append(t.pending, indexEntry{id: r.ID, rev: r.Rev, hash: r.Hash})
		return nil
	})
	if err != nil {
		return nil, err
	}
	t.files[name] = f
	if _, known := t.marks[name]; !known {
		t.marks[name], t.dirty[name] = f.Mark(), true
	}
	return f, nil
}

// catchUp writes the pending records and the files' marks to the store.
// The records are in their files already: on failure they stay pending.
func (t *TMX) catchUp() error {
	if len(t.pending) == 0 && len(t.dirty) == 0 {
		return nil
	}
	// The store never runs ahead of what is on disk.
	if t.broken != nil {
		return t.broken
	}
	if err := t.syncFiles(); err != nil {
		return err
	}
	marks := map[string]record.TMXMark{}
	for name := range t.dirty {
		marks[name] = t.marks[name]
	}
	if err := t.store.update(t.pending, func(tx *bolt.Tx) error { return putMarks(tx, marks) }); err != nil {
		return fmt.Errorf("tmx: %w", err)
	}
	t.pending, t.held, t.dirty = nil, revisions{}, map[string]bool{}
	return nil
}

// Latest returns the highest revision the TMX files hold for id.
func (t *TMX) Latest(id string) (rev int, hash string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return 0, "", false
	}
	held, err := t.revs(id)
	if err != nil {
		return 0, "", false
	}
	return held.latest(id)
}

// Close brings the index up to date and closes every file.
func (t *TMX) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	errs := []error{t.catchUp()}
	for _, f := range t.files {
		errs = append(errs, f.Close())
	}
	t.files = nil
	errs = append(errs, t.store.close())
	return errors.Join(errs...)
}
