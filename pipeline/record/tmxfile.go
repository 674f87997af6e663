package record

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/dewire/dewire/pipeline/article"
)

// TMXFile appends sentence pairs to a TMX file on disk. After every Append
// the file is a complete TMX document, synced to disk: the new units
// overwrite the closing tags, which are written again after them. An
// append cut short by a crash is rolled back when the file is next opened.
type TMXFile struct {
	mu   sync.Mutex
	f    *os.File
	size int64
	buf  bytes.Buffer
}

// OpenTMXFile opens or creates the TMX file at path. A new file gets the
// header; an existing one whose tail is not the closing tags (a crash in
// the middle of an append) is cut back to its last complete <tu>.
func OpenTMXFile(path string, h TMXHeader) (*TMXFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("tmx: %w", err)
	}
	t := &TMXFile{f: f}
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
	t.size = st.Size()
	if t.size == 0 {
		var b bytes.Buffer
		appendTMXHeader(&b, h)
		b.WriteString(tmxClose)
		if err := t.writeAt(b.Bytes(), 0); err != nil {
			return err
		}
		return syncDir(filepath.Dir(path))
	}
	tail, err := t.readTail(int64(len(tmxClose)))
	if err != nil {
		return err
	}
	if string(tail) == tmxClose {
		return nil
	}
	return t.repair()
}

func (t *TMXFile) readTail(n int64) ([]byte, error) {
	n = min(n, t.size)
	b := make([]byte, n)
	_, err := t.f.ReadAt(b, t.size-n)
	return b, err
}

// repair cuts the file after its last complete </tu> (or after <body>) and
// writes the closing tags.
func (t *TMXFile) repair() error {
	const window = 1 << 20
	tail, err := t.readTail(window)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	base := t.size - int64(len(tail))
	cut := -1
	if i := bytes.LastIndex(tail, []byte("</tu>\n")); i >= 0 {
		cut = i + len("</tu>\n")
	} else if i := bytes.LastIndex(tail, []byte("<body>\n")); i >= 0 {
		cut = i + len("<body>\n")
	}
	if cut < 0 {
		return errors.New("not a TMX file written by dewire: no <body> or </tu> near its end")
	}
	return t.writeAt([]byte(tmxClose), base+int64(cut))
}

// writeAt writes b at off, drops whatever followed, and syncs.
func (t *TMXFile) writeAt(b []byte, off int64) error {
	if _, err := t.f.WriteAt(b, off); err != nil {
		return err
	}
	end := off + int64(len(b))
	if end < t.size {
		if err := t.f.Truncate(end); err != nil {
			return err
		}
	}
	t.size = end
	return t.f.Sync()
}

// Append adds the article's sentence pairs.
func (t *TMXFile) Append(a *article.Article) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return os.ErrClosed
	}
	if len(a.Segments) == 0 {
		return nil
	}
	t.buf.Reset()
	appendTUs(&t.buf, a)
	t.buf.WriteString(tmxClose)
	if err := t.writeAt(t.buf.Bytes(), t.size-int64(len(tmxClose))); err != nil {
		return fmt.Errorf("tmx append %s: %w", a.Key(), err)
	}
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
