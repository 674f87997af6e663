package sink

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// storeName is the JSONL folder's on-disk lookup of every (id, rev) it holds:
// a cache of index.tsv, which stays the record of truth. It lets a sink
// start without reading its archive and answer a lookup without holding
// every key in memory; when it does not match index.tsv it is rebuilt.
const storeName = "index.db"

var (
	bucketRevs  = []byte("revs")  // id 0x00 rev (8 bytes, big endian) → hash
	bucketFiles = []byte("files") // data file name → end of its last indexed record
	bucketMeta  = []byte("meta")
	keyApplied  = []byte("applied") // index.tsv bytes the store holds
	keyTail     = []byte("tail")    // the last bytes of those, to tell it is the same file
	keyCount    = []byte("count")   // records held
)

// tailLen is how many of index.tsv's last applied bytes the store keeps.
const tailLen = 256

// errStoreLocked is returned when another writer holds the folder.
var errStoreLocked = errors.New("sink: folder in use by another writer")

// revStore is the on-disk (id, rev) → hash set of a JSONL folder. Its
// memory is bbolt's page cache (the file is mapped, the kernel keeps what is
// used); nothing is read into the heap but the revisions of one id at a time.
type revStore struct {
	path string
	db   *bolt.DB
}

// storeState is what the store says about the folder when it opens.
type storeState struct {
	applied int64
	tail    []byte
	count   int
	ends    map[string]int64
}

func openRevStore(path string) (*revStore, error) {
	// The free list is kept on disk: rebuilding it at open would read the
	// whole file, the cost this store exists to avoid.
	db, err := bolt.Open(path, 0o644, &bolt.Options{
		Timeout:      10 * time.Second,
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", errStoreLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("sink index store: %w", err)
	}
	return &revStore{path: path, db: db}, nil
}

func revKey(id string, rev int) []byte {
	k := make([]byte, len(id)+9)
	copy(k, id)
	binary.BigEndian.PutUint64(k[len(id)+1:], uint64(rev))
	return k
}

// revs returns every revision held for id, with its hash.
func (s *revStore) revs(id string) (map[int]string, error) {
	if s == nil {
		return nil, ErrClosed
	}
	prefix := append([]byte(id), 0)
	var held map[int]string
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRevs)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) != len(prefix)+8 {
				continue
			}
			if held == nil {
				held = map[int]string{}
			}
			held[int(binary.BigEndian.Uint64(k[len(prefix):]))] = string(v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sink index store: %w", err)
	}
	return held, nil
}

func (s *revStore) has(id string, rev int) (bool, error) {
	if s == nil {
		return false, ErrClosed
	}
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketRevs); b != nil {
			ok = b.Get(revKey(id, rev)) != nil
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sink index store: %w", err)
	}
	return ok, nil
}

// state reads what the store holds about the folder; ok is false for a store
// that was never completed (new, or a rebuild cut short).
func (s *revStore) state() (st storeState, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		meta, files := tx.Bucket(bucketMeta), tx.Bucket(bucketFiles)
		if meta == nil || files == nil || tx.Bucket(bucketRevs) == nil {
			return nil
		}
		applied, count := meta.Get(keyApplied), meta.Get(keyCount)
		if len(applied) != 8 || len(count) != 8 {
			return nil
		}
		st.applied = int64(binary.BigEndian.Uint64(applied))
		st.count = int(binary.BigEndian.Uint64(count))
		st.tail = append([]byte(nil), meta.Get(keyTail)...)
		st.ends = map[string]int64{}
		ok = true
		return files.ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				ok = false
				return nil
			}
			st.ends[string(k)] = int64(binary.BigEndian.Uint64(v))
			return nil
		})
	})
	if err != nil {
		return storeState{}, false, fmt.Errorf("sink index store: %w", err)
	}
	return st, ok, nil
}

// apply adds entries (none of which the store holds) and the folder's new
// state in one durable transaction.
func (s *revStore) apply(entries []indexEntry, st storeState) error {
	return s.update(entries, func(tx *bolt.Tx) error { return putState(tx, st) })
}

// update adds entries (one the store holds gets the entry's hash) and what
// state writes, in one durable transaction.
func (s *revStore) update(entries []indexEntry, state func(tx *bolt.Tx) error) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := putRevs(tx, entries); err != nil {
			return err
		}
		return state(tx)
	})
	if err != nil {
		return fmt.Errorf("sink index store: %w", err)
	}
	return nil
}

func putRevs(tx *bolt.Tx, entries []indexEntry) error {
	revs, err := tx.CreateBucketIfNotExists(bucketRevs)
	if err != nil {
		return err
	}
	// Keys and values must live until the commit: one buffer holds them.
	size := 0
	for _, e := range entries {
		size += len(e.id) + 9 + len(e.hash)
	}
	arena := make([]byte, 0, size)
	for _, e := range entries {
		k := len(arena)
		arena = append(append(arena, e.id...), 0)
		arena = binary.BigEndian.AppendUint64(arena, uint64(e.rev))
		v := len(arena)
		arena = append(arena, e.hash...)
		if err := revs.Put(arena[k:v:v], arena[v:len(arena):len(arena)]); err != nil {
			return err
		}
	}
	return nil
}

func putState(tx *bolt.Tx, st storeState) error {
	files, err := tx.CreateBucketIfNotExists(bucketFiles)
	if err != nil {
		return err
	}
	for name, end := range st.ends {
		if err := files.Put([]byte(name), binary.BigEndian.AppendUint64(nil, uint64(end))); err != nil {
			return err
		}
	}
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	for k, v := range map[string][]byte{
		string(keyApplied): binary.BigEndian.AppendUint64(nil, uint64(st.applied)),
		string(keyCount):   binary.BigEndian.AppendUint64(nil, uint64(st.count)),
		string(keyTail):    st.tail,
	} {
		if err := meta.Put([]byte(k), v); err != nil {
			return err
		}
	}
	return nil
}

// rebuild replaces the store with revs and st. The state is written last,
// so a rebuild cut short leaves a store that state reports as incomplete.
func (s *revStore) rebuild(revs revisions, st storeState) error {
	if err := s.reset(); err != nil {
		return err
	}
	entries := make([]indexEntry, 0, len(revs))
	for id, held := range revs {
		for rev, hash := range held {
			entries = append(entries, indexEntry{id: id, rev: rev, hash: hash})
		}
	}
	sortEntries(entries)
	const batch = 100_000
	for len(entries) > 0 {
		n := min(batch, len(entries))
		if err := s.load(entries[:n]); err != nil {
			return err
		}
		entries = entries[n:]
	}
	return s.seal(func(tx *bolt.Tx) error { return putState(tx, st) })
}

// reset replaces the store with an empty one for a rebuild: until seal, its
// commits are not synced.
func (s *revStore) reset() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("sink index store: %w", err)
	}
	if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sink index store: %w", err)
	}
	fresh, err := openRevStore(s.path)
	if err != nil {
		return err
	}
	s.db = fresh.db
	s.db.NoSync = true
	return nil
}

// sortEntries orders entries by their store key, the order load writes
// fastest (an id holds no NUL, so it sorts as its key's prefix does).
func sortEntries(entries []indexEntry) {
	sort.Slice(entries, func(a, b int) bool {
		if entries[a].id != entries[b].id {
			return entries[a].id < entries[b].id
		}
		return entries[a].rev < entries[b].rev
	})
}

// load adds a rebuild's entries, sorted by sortEntries, in one transaction.
func (s *revStore) load(entries []indexEntry) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketRevs)
		if err != nil {
			return err
		}
		b.FillPercent = 0.9 // keys arrive in order
		return putRevs(tx, entries)
	})
	if err != nil {
		return fmt.Errorf("sink index store rebuild: %w", err)
	}
	return nil
}

// seal ends a rebuild: what was loaded is synced, then state is written in
// a durable transaction, so a rebuild cut short never has its state.
func (s *revStore) seal(state func(tx *bolt.Tx) error) error {
	s.db.NoSync = false
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("sink index store rebuild: %w", err)
	}
	return s.update(nil, state)
}

func (s *revStore) close() error { return s.db.Close() }
