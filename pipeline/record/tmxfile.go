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

// ErrNotDewireTMX is returned by OpenTMXFile for a file it cannot read back:
// not TMX, or units without the properties this package writes.
var ErrNotDewireTMX = errors.New("not a TMX file written by dewire")

// ErrTMXCorrupt is returned by OpenTMXFile for a file damaged before its
// last record: not the torn tail a crash leaves, so it is not cut back.
var ErrTMXCorrupt = errors.New("tmx: file damaged before its last record")

// ErrTMXMarkMismatch is returned by OpenTMXFile when the file does not hold
// the bytes its mark says end there: it was replaced or cut since the mark
// was taken, so only a read from the start can tell what it holds.
var ErrTMXMarkMismatch = errors.New("tmx: the file does not match its mark")

// TMXRecord is one record whose units a TMX file holds.
type TMXRecord struct {
	ID   string
	Rev  int
	Hash string // empty for records written before units carried their hash
}

// Key is the record's identity in the sink, "id@rev".
func (r TMXRecord) Key() string { return r.ID + "@" + strconv.Itoa(r.Rev) }

// TMXMark is a point in a TMX file just after the units of a complete
// record (or just after <body>): where the closing tags start. Tail, the
// file's last bytes before End, lets OpenTMXFile tell that the file it
// resumes is the one the mark was taken from. The zero mark is the start.
type TMXMark struct {
	End  int64
	Tail []byte
}

// markTailLen is how many bytes before End a mark keeps.
const markTailLen = 256

// TMXFile appends sentence pairs to a TMX file on disk. After every Append
// the file is a complete TMX document, synced to disk: the new units
// overwrite the closing tags, which are written again after them. An append
// cut short by a crash is rolled back, whole, when the file is next opened.
// It holds nothing per record: which records the file holds is reported
// once, as OpenTMXFile reads them, and deduplicating is the caller's job.
type TMXFile struct {
	mu     sync.Mutex
	f      *os.File
	end    int64  // length of the complete document
	extent int64  // bytes possibly on disk: more than end after a failed write
	tail   []byte // the last bytes before the closing tags
	buf    bytes.Buffer
	// unsynced is set from a write until the sync after it
	unsynced bool
}

// OpenTMXFile opens or creates the TMX file at path and reads it from mark
// on (the whole file for the zero mark): found is called with each complete
// record after the mark, in file order, and a tail that is not the closing
// tags right after the last of them (a crash in the middle of an append) is
// cut off, so that a record is either in the file with all its units or not
// at all. A new file gets the header. The file before the mark is not read;
// a file that does not hold the mark's bytes is ErrTMXMarkMismatch, and left
// as it is.
func OpenTMXFile(path string, h TMXHeader, mark TMXMark, found func(TMXRecord) error) (*TMXFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("tmx: %w", err)
	}
	t := &TMXFile{f: f}
	err = t.open(h, path, mark, found)
	if err == nil {
		err = t.sync() // a new header or a cut tail
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("tmx %s: %w", path, err)
	}
	return t, nil
}

func (t *TMXFile) open(h TMXHeader, path string, mark TMXMark, found func(TMXRecord) error) error {
	st, err := t.f.Stat()
	if err != nil {
		return err
	}
	t.end, t.extent = st.Size(), st.Size()
	if mark.End > 0 {
		return t.resume(mark, found)
	}
	if t.end == 0 {
		if err := t.writeHeader(h); err != nil {
			return err
		}
		if err := t.sync(); err != nil {
			return err
		}
		return syncDir(filepath.Dir(path))
	}
	data := make([]byte, t.end)
	if _, err := t.f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	pos, err := bodyStart(data)
	if errors.Is(err, errTornHeader) {
		// Created, but its header never reached the disk whole: no record
		// was ever in it.
		t.end = 0
		return t.writeHeader(h)
	}
	if err != nil {
		return err
	}
	return t.recover(data, 0, pos, found)
}

// resume reads the file from mark on.
func (t *TMXFile) resume(mark TMXMark, found func(TMXRecord) error) error {
	start := mark.End - int64(len(mark.Tail))
	if len(mark.Tail) != int(min(mark.End, markTailLen)) || mark.End > t.end {
		return fmt.Errorf("%w: mark at byte %d, file of %d bytes", ErrTMXMarkMismatch, mark.End, t.end)
	}
	data := make([]byte, t.end-start)
	if _, err := t.f.ReadAt(data, start); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if !bytes.Equal(data[:len(mark.Tail)], mark.Tail) {
		return fmt.Errorf("%w: other bytes before byte %d", ErrTMXMarkMismatch, mark.End)
	}
	return t.recover(data, start, len(mark.Tail), found)
}

// recover scans data (the file from byte base on) from pos, which follows a
// complete record or <body>, reports the records found and cuts a torn tail.
func (t *TMXFile) recover(data []byte, base int64, pos int, found func(TMXRecord) error) error {
	good, clean, err := scanUnits(data, pos, base, found)
	if err != nil {
		return err
	}
	t.tail = lastBytes(nil, data[:good])
	if clean {
		return nil
	}
	// Torn append: nothing after the last complete record was acknowledged.
	return t.writeAt([]byte(tmxClose), base+int64(good))
}

func (t *TMXFile) writeHeader(h TMXHeader) error {
	var b bytes.Buffer
	appendTMXHeader(&b, h)
	t.tail = lastBytes(nil, b.Bytes())
	b.WriteString(tmxClose)
	return t.writeAt(b.Bytes(), 0)
}

// lastBytes is the mark tail of a file whose bytes before the mark end with
// b, following one whose tail was prev.
func lastBytes(prev, b []byte) []byte {
	if len(b) >= markTailLen {
		return append([]byte(nil), b[len(b)-markTailLen:]...)
	}
	all := append(append([]byte(nil), prev...), b...)
	return all[max(0, len(all)-markTailLen):]
}

// bodyStart returns the offset just after <body> of a file this package
// wrote.
func bodyStart(data []byte) (int, error) {
	const body = "<body>\n"
	i := bytes.Index(data, []byte(body))
	if i < 0 || !wellFormedHead(data[:i+len(body)]) {
		if !bytes.Contains(data, []byte("<tu")) {
			return 0, errTornHeader
		}
		return 0, fmt.Errorf("%w: no well-formed header before <body>", ErrNotDewireTMX)
	}
	return i + len(body), nil
}

// scanUnits reads the units of a file this package wrote from pos in data
// (the file from byte base on), where no record is open, and calls found
// with each complete record. It returns the offset in data just after the
// last of them (or pos), and whether the closing tags follow right there.
func scanUnits(data []byte, pos int, base int64, found func(TMXRecord) error) (good int, clean bool, err error) {
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
			return 0, false, fmt.Errorf("unit at byte %d: %w", base+int64(pos), err)
		}
		if err != nil {
			break // bytes that never reached the disk whole
		}
		pos += n + len("</tu>\n")
		switch {
		case u.units == 0: // written before units were counted: one unit stands for itself
			if cur.key != "" {
				return 0, false, fmt.Errorf("%w: unit %s inside record %s", ErrNotDewireTMX, u.key, cur.key)
			}
			if err := found(u.record); err != nil {
				return 0, false, err
			}
			good = pos
			continue
		case cur.key == "" && u.seq == 1:
			cur, next = u, 2
		case cur.key == u.key && u.seq == next && u.units == cur.units:
			next++
		default:
			return 0, false, fmt.Errorf("%w: unit %s#%d out of order", ErrNotDewireTMX, u.key, u.seq)
		}
		if u.seq == u.units {
			if err := found(cur.record); err != nil {
				return 0, false, err
			}
			good, cur = pos, tmxUnit{}
		}
	}
	if cur.key == "" && string(data[pos:]) == tmxClose {
		return good, true, nil
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
		return 0, false, fmt.Errorf("%w: unreadable bytes at %d before units of more than one record", ErrTMXCorrupt, base+int64(pos))
	}
	return good, false, nil
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

// writeAt writes b at off and drops whatever followed; Sync makes it durable.
func (t *TMXFile) writeAt(b []byte, off int64) error {
	end := off + int64(len(b))
	t.unsynced = true
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
	return nil
}

// Sync makes every append so far durable.
func (t *TMXFile) Sync() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sync()
}

func (t *TMXFile) sync() error {
	if t.f == nil {
		return os.ErrClosed
	}
	if !t.unsynced {
		return nil
	}
	if err := t.f.Sync(); err != nil {
		return err
	}
	t.unsynced = false
	return nil
}

// Mark is where the file's complete records end.
func (t *TMXFile) Mark() TMXMark {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.mark()
}

func (t *TMXFile) mark() TMXMark {
	// t.tail is replaced, never changed in place: the mark may share it.
	return TMXMark{End: t.end - int64(len(tmxClose)), Tail: t.tail[:len(t.tail):len(t.tail)]}
}

// Append adds the article's sentence pairs and returns the file's mark after
// them. It does not look at what the file holds: a record appended twice is
// in it twice.
func (t *TMXFile) Append(a *article.Article) (TMXMark, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m, err := t.appendUnsynced(a)
	if err != nil {
		return TMXMark{}, err
	}
	if err := t.sync(); err != nil {
		return TMXMark{}, fmt.Errorf("tmx append %s: %w", a.Key(), err)
	}
	return m, nil
}

// AppendUnsynced is Append without the sync: the record is durable once
// Sync (or Close) returns, so that one sync can serve many appends. A
// crash before then leaves at worst a torn tail, which opening cuts off.
func (t *TMXFile) AppendUnsynced(a *article.Article) (TMXMark, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.appendUnsynced(a)
}

func (t *TMXFile) appendUnsynced(a *article.Article) (TMXMark, error) {
	if t.f == nil {
		return TMXMark{}, os.ErrClosed
	}
	if len(a.Segments) == 0 {
		return t.mark(), nil
	}
	t.buf.Reset()
	appendTUs(&t.buf, a)
	units := len(t.buf.Bytes())
	t.buf.WriteString(tmxClose)
	if err := t.writeAt(t.buf.Bytes(), t.end-int64(len(tmxClose))); err != nil {
		return TMXMark{}, fmt.Errorf("tmx append %s: %w", a.Key(), err)
	}
	t.tail = lastBytes(t.tail, t.buf.Bytes()[:units])
	return t.mark(), nil
}

// Close syncs what was appended since the last sync and closes the file.
func (t *TMXFile) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return nil
	}
	err := errors.Join(t.sync(), t.f.Close())
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
