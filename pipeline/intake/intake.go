package intake

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/dewire/dewire/pipeline/article"
)

// Format is the layout of an input.
type Format int

// Formats. Auto takes the format from the path's extension, else sniffs
// the first bytes.
const (
	Auto  Format = iota
	Plain        // title line, blank line, paragraphs separated by blank lines
	JSON         // one JSON object
	JSONL        // one JSON object per line
	HTML         // an HTML page: title from <h1> or <title>, paragraphs from the body's blocks
)

func (f Format) String() string {
	switch f {
	case Plain:
		return "plain"
	case JSON:
		return "json"
	case JSONL:
		return "jsonl"
	case HTML:
		return "html"
	}
	return "auto"
}

// FormatOf returns the format a file name's extension implies: .txt plain,
// .json JSON, .jsonl and .ndjson JSON Lines, .html and .htm HTML, anything
// else Auto.
func FormatOf(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".txt", ".text":
		return Plain
	case ".json":
		return JSON
	case ".jsonl", ".ndjson":
		return JSONL
	case ".html", ".htm", ".xhtml":
		return HTML
	}
	return Auto
}

// Origin says where an input comes from.
type Origin struct {
	// Name is the source name used in subjects; it is sanitized to
	// [a-z0-9_-]. Empty means DefaultSourceName(Path).
	Name string
	// Path is the file the input was read from; "" or "-" for stdin.
	Path string
	// Format of the input; Auto decides by Path, then by sniffing.
	Format Format
	// File, when set, says Path is a file that holds one article (not JSON
	// Lines) and names it within the source: its path relative to the
	// folder given as input. Such an article without a GUID or URL takes its
	// id from the source name and File instead of its content, so an edited
	// file becomes the next revision of the same article.
	File string
}

// Limits bound what one article may be; zero fields take the defaults.
type Limits struct {
	MaxBytes      int // bytes of one article (a file, or a JSONL line); default 1 MiB
	MaxParagraphs int // default 500
	MaxTitle      int // bytes of the title; default 2 KiB
}

// Default limits.
const (
	DefaultMaxBytes      = 1 << 20
	DefaultMaxParagraphs = 500
	DefaultMaxTitle      = 2 << 10
	// MaxRaw bounds the input kept in a rejection record.
	MaxRaw = 64 << 10
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxParagraphs <= 0 {
		l.MaxParagraphs = DefaultMaxParagraphs
	}
	if l.MaxTitle <= 0 {
		l.MaxTitle = DefaultMaxTitle
	}
	return l
}

// Rejection codes.
const (
	CodeEmpty             = "input.empty"
	CodeTooLarge          = "input.too_large"
	CodeTooManyParagraphs = "input.too_many_paragraphs"
	CodeInvalidUTF8       = "input.invalid_utf8"
	CodeControlChars      = "input.control_chars"
	CodeBadJSON           = "input.bad_json"
	CodeBadField          = "input.bad_field"
	CodeBadHTML           = "input.bad_html"
	CodeNotGerman         = "lang.not_german"
	CodeUndetermined      = "lang.undetermined"
)

// Item is the outcome for one input item: exactly one of Article and Reject
// is set.
type Item struct {
	Article *article.Article // accepted: ID, Hash, Source, DE (and Lang with a gate); Rev 0
	Reject  *article.Article // rejected: a record with Reject set
	Line    int              // 1-based line of a JSONL item; 0 for a whole-file item
}

// LanguageGate decides whether a text is German; *langid.Gate is one.
type LanguageGate interface {
	IsGerman(t *article.Text) (ok bool, code string, confidence float64)
}

// Reader reads inputs into Items. The zero value works: default limits, the
// wall clock, and no language gate (Lang is then left empty).
type Reader struct {
	Limits Limits
	Gate   LanguageGate     // optional; rejects what is not German
	Now    func() time.Time // optional; the ingestion clock
}

// Read reads src without a language gate; see Reader.Read.
func Read(ctx context.Context, src io.Reader, o Origin, lim Limits, now func() time.Time, emit func(Item) error) error {
	r := Reader{Limits: lim, Now: now}
	return r.Read(ctx, src, o, emit)
}

// Read reads every item of src and calls emit once per item, in input order:
// one item for a plain or JSON input, one per non-blank line for JSON Lines.
// It returns the first error from reading src, from emit (wrapped), or the
// context's; malformed input is never an error but a rejection Item. A JSON
// Lines input is streamed: memory stays bounded by Limits.MaxBytes.
func (r *Reader) Read(ctx context.Context, src io.Reader, o Origin, emit func(Item) error) error {
	lim := r.Limits.withDefaults()
	now := r.Now
	if now == nil {
		now = time.Now
	}
	if o.Name == "" {
		o.Name = DefaultSourceName(o.Path)
	} else {
		o.Name = SourceName(o.Name)
	}
	p := parser{lim: lim, gate: r.Gate, origin: o, now: now}
	br := bufio.NewReaderSize(src, 16<<10)
	format := o.Format
	if format == Auto {
		format = FormatOf(o.Path)
	}
	if format == Auto {
		format = sniff(br)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("intake %s: %w", o.displayPath(), err)
	}
	if format == JSONL {
		return p.readLines(ctx, br, emit)
	}
	it, err := p.readWhole(br, format)
	if err != nil {
		return fmt.Errorf("intake %s: %w", o.displayPath(), err)
	}
	if err := emit(it); err != nil {
		return fmt.Errorf("intake %s: emit: %w", o.displayPath(), err)
	}
	return nil
}

func (o Origin) displayPath() string {
	if o.Path == "" || o.Path == "-" {
		return "stdin"
	}
	return o.Path
}

// sniff decides between plain text, HTML, JSON and JSON Lines from the
// first bytes: text that starts with <!doctype html> or <html> is HTML; text
// whose first non-space byte is '{' is JSON; if its first line is a whole
// object ending in '}', it is JSON Lines (a one-line JSON file reads the
// same either way).
func sniff(br *bufio.Reader) Format {
	head, _ := br.Peek(br.Size())
	head = bytes.TrimPrefix(head, bom)
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if lower := bytes.ToLower(trimmed[:min(len(trimmed), 16)]); bytes.HasPrefix(lower, []byte("<!doctype html")) || bytes.HasPrefix(lower, []byte("<html")) {
		return HTML
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Plain
	}
	nl := bytes.IndexByte(trimmed, '\n')
	if nl < 0 {
		if len(head) < br.Size() {
			return JSON // the whole input is one line
		}
		return JSONL // a first line longer than the buffer: stream it
	}
	if line := bytes.TrimRight(trimmed[:nl], " \t\r"); line[len(line)-1] == '}' {
		return JSONL
	}
	return JSON
}

var bom = []byte("\uFEFF")

// parser holds what every item of one input shares.
type parser struct {
	lim    Limits
	gate   LanguageGate
	origin Origin
	now    func() time.Time
}

// readWhole reads a plain, HTML or JSON input as one item.
func (p *parser) readWhole(br *bufio.Reader, format Format) (Item, error) {
	buf, err := io.ReadAll(io.LimitReader(br, int64(p.lim.MaxBytes)+1))
	if err != nil {
		return Item{}, fmt.Errorf("read: %w", err)
	}
	if len(buf) > p.lim.MaxBytes {
		h := sha256.New()
		h.Write(buf)
		n, err := io.Copy(h, br)
		if err != nil {
			return Item{}, fmt.Errorf("read: %w", err)
		}
		size := int64(len(buf)) + n
		return Item{Reject: p.reject(nil, CodeTooLarge,
			fmt.Sprintf("input is %d bytes, more than the limit of %d", size, p.lim.MaxBytes),
			buf, hex.EncodeToString(h.Sum(nil)))}, nil
	}
	return p.item(buf, format, 0), nil
}

// readLines reads JSON Lines, one item per non-blank line.
func (p *parser) readLines(ctx context.Context, br *bufio.Reader, emit func(Item) error) error {
	lr := lineReader{br: br, max: p.lim.MaxBytes}
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("intake %s line %d: %w", p.origin.displayPath(), n, err)
		}
		line, err := lr.next()
		if err != nil && err != io.EOF {
			return fmt.Errorf("intake %s line %d: read: %w", p.origin.displayPath(), n, err)
		}
		if line.size > 0 && !line.blank(n == 1) {
			var it Item
			if line.over {
				it.Reject = p.reject(nil, CodeTooLarge,
					fmt.Sprintf("line %d is %d bytes, more than the limit of %d", n, line.size, p.lim.MaxBytes),
					line.data, line.hash)
			} else {
				it = p.item(line.data, JSONL, n)
			}
			it.Line = n
			if err := emit(it); err != nil {
				return fmt.Errorf("intake %s line %d: emit: %w", p.origin.displayPath(), n, err)
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// line is one line of a JSON Lines input, without its line break.
type line struct {
	data []byte // the line, or its first bytes when over
	size int64  // bytes in the line, line break excluded
	over bool   // longer than the limit
	hash string // sha256 of the whole line, set when over
}

// blank reports whether the line holds only spaces (and, first, a BOM).
func (l line) blank(first bool) bool {
	d := l.data
	if first {
		d = bytes.TrimPrefix(d, bom)
	}
	return !l.over && len(bytes.Trim(d, " \t\r")) == 0
}

// lineReader reads lines of at most max bytes; a longer line is read to its
// end but only its first max bytes are kept.
type lineReader struct {
	br  *bufio.Reader
	max int
	buf []byte
}

func (lr *lineReader) next() (line, error) {
	lr.buf = lr.buf[:0]
	var l line
	var h = sha256.New()
	for {
		chunk, err := lr.br.ReadSlice('\n')
		done := err == nil || err != bufio.ErrBufferFull
		if err == nil {
			chunk = chunk[:len(chunk)-1]
		}
		l.size += int64(len(chunk))
		switch {
		case l.over:
			h.Write(chunk)
		case len(lr.buf)+len(chunk) > lr.max:
			l.over = true
			h.Write(lr.buf)
			h.Write(chunk)
			if room := MaxRaw - len(lr.buf); room > 0 {
				lr.buf = append(lr.buf, chunk[:min(room, len(chunk))]...)
			}
		default:
			lr.buf = append(lr.buf, chunk...)
		}
		if done {
			if !l.over {
				lr.buf = bytes.TrimSuffix(lr.buf, []byte("\r"))
				l.size = int64(len(lr.buf))
			}
			l.data = lr.buf
			if l.over {
				l.hash = hex.EncodeToString(h.Sum(nil))
			}
			if err != nil && err != io.EOF {
				return l, err
			}
			if err == io.EOF {
				return l, io.EOF
			}
			return l, nil
		}
	}
}
