package record

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/dewire/dewire/pipeline/article"
)

// ErrTMXConflict is returned by TMXFile.Append for a record whose key
// (id@rev) the file already holds with a different content hash.
var ErrTMXConflict = errors.New("tmx: the file holds this id and revision with other content")

// ErrNotDewireTMX is returned by OpenTMXFile for a file it cannot read back:
// not TMX, or units without the properties this package writes.
var ErrNotDewireTMX = errors.New("not a TMX file written by dewire")

// ErrTMXCorrupt is returned by OpenTMXFile for a file damaged before its
// last record: not the torn tail a crash leaves, so it is not cut back.
var ErrTMXCorrupt = errors.New("tmx: file damaged before its last record")

// TMXRecord is one record whose units a TMX file holds.
type TMXRecord struct {
	ID   string
	Rev  int
	Hash string // empty for records written before units carried their hash
}

// Key is the record's identity in the sink, "id@rev".
func (r TMXRecord) Key() string { return r.ID + "@" + strconv.Itoa(r.Rev) }

// TMXFile appends sentence pairs to a TMX file on disk. After every Append
// the file is a complete TMX document, synced to disk: the new units
// overwrite the closing tags, which are written again after them. An append
// cut short by a crash is rolled back, whole, when the file is next opened,
// and a record the file already holds is not appended again.
type TMXFile struct {
	mu     sync.Mutex
	f      *os.File
	end    int64 // length of the complete document
	extent int64 // bytes possibly on disk: more than end after a failed write
	buf    bytes.Buffer
	keys   map[string]int // id@rev → index in recs
	recs   []TMXRecord
}

// OpenTMXFile opens or creates the TMX file at path. A new file gets the
// header. An existing one is read through: the records whose units it holds
// are remembered, and a tail that is not the closing tags right after the
// last complete record (a crash in the middle of an append) is cut off, so
// that a record is either in the file with all its units or not at all.
func OpenTMXFile(path string, h TMXHeader) (*TMXFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("tmx: %w", err)
	}
	t := &TMXFile{f: f, keys: map[string]int{}}
	if err := t.open(h, path); err != nil {
		f.Close()
		return nil, fmt.Errorf("tmx %s: %w", path, err)
	}
	return t, nil
}

func (t *TMXFile) open(h TMXHeader, path string) error {
	st, err := t.f.Stat()
	if err != nil {
		return err
	}
	t.end, t.extent = st.Size(), st.Size()
	if t.end == 0 {
		var b bytes.Buffer
		appendTMXHeader(&b, h)
		b.WriteString(tmxClose)
		if err := t.writeAt(b.Bytes(), 0); err != nil {
			return err
		}
		return syncDir(filepath.Dir(path))
	}
	data := make([]byte, t.end)
	if _, err := t.f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	recs, good, clean, err := scanTMX(data)
	if errors.Is(err, errTornHeader) {
		// Created, but its header never reached the disk whole: no record
		// was ever in it.
		t.end = 0
		var b bytes.Buffer
		appendTMXHeader(&b, h)
		b.WriteString(tmxClose)
		return t.writeAt(b.Bytes(), 0)
	}
	if err != nil {
		return err
	}
	for _, r := range recs {
		t.add(r)
	}
	if clean {
		return nil
	}
	// Torn append: nothing after the last complete record was acknowledged.
	return t.writeAt([]byte(tmxClose), int64(good))
}

func (t *TMXFile) add(r TMXRecord) {
	if _, ok := t.keys[r.Key()]; ok {
		return
	}
	t.keys[r.Key()] = len(t.recs)
	t.recs = append(t.recs, r)
}

// scanTMX reads the units of a file this package wrote. It returns the
// records found complete, the offset just after the last of them (or after
// <body>), and whether the closing tags follow right there.
func scanTMX(data []byte) (recs []TMXRecord, good int, clean bool, err error) {
	const body = "<body>\n"
	i := bytes.Index(data, []byte(body))
	if i < 0 || !wellFormedHead(data[:i+len(body)]) {
		if !bytes.Contains(data, []byte("<tu")) {
			return nil, 0, false, errTornHeader
		}
		return nil, 0, false, fmt.Errorf("%w: no well-formed header before <body>", ErrNotDewireTMX)
	}
	pos := i + len(body)
	good = pos
	var cur tmxUnit // the record whose units are being read; Key "" between records
	next := 0
	for {
		rest := data[pos:]
		if !bytes.HasPrefix(rest, []byte("<tu ")) && !bytes.HasPrefix(rest, []byte("<tu>")) {
			break
		}
		n := bytes.Index(rest, []byte("</tu>\n"))
		if n < 0 {
			break // a unit cut short
		}
		u, err := parseTMXUnit(rest[:n+len("</tu>")])
		if errors.Is(err, ErrNotDewireTMX) {
			return nil, 0, false, fmt.Errorf("unit at byte %d: %w", pos, err)
		}
		if err != nil {
			break // bytes that never reached the disk whole
		}
		pos += n + len("</tu>\n")
		switch {
		case u.units == 0: // written before units were counted: one unit stands for itself
			if cur.key != "" {
				return nil, 0, false, fmt.Errorf("%w: unit %s inside record %s", ErrNotDewireTMX, u.key, cur.key)
			}
			recs = append(recs, u.record)
			good = pos
			continue
		case cur.key == "" && u.seq == 1:
			cur, next = u, 2
		case cur.key == u.key && u.seq == next && u.units == cur.units:
			next++
		default:
			return nil, 0, false, fmt.Errorf("%w: unit %s#%d out of order", ErrNotDewireTMX, u.key, u.seq)
		}
		if u.seq == u.units {
			recs = append(recs, cur.record)
			good, cur = pos, tmxUnit{}
		}
	}
	if cur.key == "" && string(data[pos:]) == tmxClose {
		return recs, good, true, nil
	}
	// Only the last append can be torn, and it holds one record: units of
	// two records past the last complete one are damage, not a crash.
	keys := map[string]bool{}
	if cur.key != "" {
		keys[cur.key] = true
	}
	for rest := data[pos:]; ; {
		i := bytes.Index(rest, []byte("<tu "))
		if i < 0 {
			break
		}
		rest = rest[i:]
		n := bytes.Index(rest, []byte("</tu>\n"))
		if n < 0 {
			break
		}
		if u, err := parseTMXUnit(rest[:n+len("</tu>")]); err == nil {
			keys[u.key] = true
		}
		rest = rest[n+len("</tu>\n"):]
	}
	if len(keys) > 1 {
		return nil, 0, false, fmt.Errorf("%w: unreadable bytes at %d before units of more than one record", ErrTMXCorrupt, pos)
	}
	return recs, good, false, nil
}

// errTornHeader: a file without units whose header is incomplete.
var errTornHeader = errors.New("tmx: torn header")

// wellFormedHead reports whether head (the file up to and including
// <body>) is well-formed XML so far.
func wellFormedHead(head []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(head))
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "body" {
			return true
		}
	}
}

type tmxUnit struct {
	record     TMXRecord
	key        string
	seq, units int
}

// parseTMXUnit reads one <tu>…</tu>. An XML error means the bytes are torn;
// a well-formed unit without the dewire properties is ErrNotDewireTMX.
func parseTMXUnit(b []byte) (tmxUnit, error) {
	var tu struct {
		TUID  string `xml:"tuid,attr"`
		Props []struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"prop"`
	}
	if err := xml.Unmarshal(b, &tu); err != nil {
		return tmxUnit{}, err
	}
	var u tmxUnit
	var rev, units string
	for _, p := range tu.Props {
		switch p.Type {
		case "x-dewire-id":
			u.record.ID = p.Value
		case "x-dewire-rev":
			rev = p.Value
		case propKey:
			u.key = p.Value
		case propHash:
			u.record.Hash = p.Value
		case propUnits:
			units = p.Value
		}
	}
	var err error
	if u.record.Rev, err = strconv.Atoi(rev); err != nil || u.record.ID == "" {
		return tmxUnit{}, fmt.Errorf("%w: unit %q without x-dewire-id and x-dewire-rev", ErrNotDewireTMX, tu.TUID)
	}
	if u.key == "" {
		u.key = u.record.Key()
	}
	if units == "" {
		return u, nil
	}
	u.units, err = strconv.Atoi(units)
	_, seq, ok := strings.Cut(tu.TUID, "#")
	if ok && err == nil {
		u.seq, err = strconv.Atoi(seq)
	}
	if !ok || err != nil || u.units < 1 || u.seq < 1 || u.seq > u.units || u.key != u.record.Key() {
		return tmxUnit{}, fmt.Errorf("%w: unit %q with inconsistent properties", ErrNotDewireTMX, tu.TUID)
	}
	return u, nil
}

// writeAt writes b at off, drops whatever followed, and syncs.
func (t *TMXFile) writeAt(b []byte, off int64) error {
	end := off + int64(len(b))
	if _, err := t.f.WriteAt(b, off); err != nil {
		t.extent = max(t.extent, end)
		return err
	}
	if end < t.extent {
		if err := t.f.Truncate(end); err != nil {
			return err
		}
	}
	t.end, t.extent = end, end
	return t.f.Sync()
}

// Records lists the records the file holds, in file order.
func (t *TMXFile) Records() []TMXRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]TMXRecord(nil), t.recs...)
}

// Has reports whether the file holds the units of (id, rev), and their hash.
func (t *TMXFile) Has(id string, rev int) (hash string, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i, ok := t.keys[id+"@"+strconv.Itoa(rev)]
	if !ok {
		return "", false
	}
	return t.recs[i].Hash, true
}

// Append adds the article's sentence pairs, unless the file holds (id, rev)
// already: then it does nothing when the content hash is the same and
// returns ErrTMXConflict when it differs.
func (t *TMXFile) Append(a *article.Article) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return os.ErrClosed
	}
	if len(a.Segments) == 0 {
		return nil
	}
	if i, ok := t.keys[a.Key()]; ok {
		if t.recs[i].Hash != a.Hash {
			return fmt.Errorf("tmx append %s: %w", a.Key(), ErrTMXConflict)
		}
		return nil
	}
	t.buf.Reset()
	appendTUs(&t.buf, a)
	t.buf.WriteString(tmxClose)
	if err := t.writeAt(t.buf.Bytes(), t.end-int64(len(tmxClose))); err != nil {
		return fmt.Errorf("tmx append %s: %w", a.Key(), err)
	}
	t.add(TMXRecord{ID: a.ID, Rev: a.Rev, Hash: a.Hash})
	return nil
}

// Close closes the file; it is complete already.
func (t *TMXFile) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	return err
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
