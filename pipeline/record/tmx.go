package record

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dewire/dewire/pipeline/article"
)

// TMXHeader fills the <header> element; empty fields get defaults.
type TMXHeader struct {
	CreationTool        string    // default "dewire"
	CreationToolVersion string    // default "dev"
	OTMF                string    // original translation memory format; default "dewire"
	AdminLang           string    // default "en"
	SrcLang             string    // default "de"
	CreationDate        time.Time // omitted when zero
}

func (h TMXHeader) withDefaults() TMXHeader {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&h.CreationTool, "dewire")
	def(&h.CreationToolVersion, "dev")
	def(&h.OTMF, "dewire")
	def(&h.AdminLang, "en")
	def(&h.SrcLang, "de")
	return h
}

// tmxClose ends every TMX document this package writes.
const tmxClose = "</body>\n</tmx>\n"

func appendTMXHeader(b *bytes.Buffer, h TMXHeader) {
	h = h.withDefaults()
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE tmx SYSTEM \"tmx14.dtd\">\n<tmx version=\"1.4\">\n<header")
	attr(b, "creationtool", h.CreationTool)
	attr(b, "creationtoolversion", h.CreationToolVersion)
	attr(b, "segtype", "sentence")
	attr(b, "o-tmf", h.OTMF)
	attr(b, "adminlang", h.AdminLang)
	attr(b, "srclang", h.SrcLang)
	attr(b, "datatype", "plaintext")
	if !h.CreationDate.IsZero() {
		attr(b, "creationdate", h.CreationDate.UTC().Format("20060102T150405Z"))
	}
	b.WriteString("/>\n<body>\n")
}

// Properties of every <tu> besides x-dewire-id, x-dewire-rev and
// x-dewire-para: the record key (id@rev), the record's content hash and its
// number of units. A reader (TMXFile on open) uses them to tell which
// records a file holds and whether the last one is complete.
const (
	propKey   = "x-dewire-key"
	propHash  = "x-dewire-hash"
	propUnits = "x-dewire-units"
)

// appendTUs writes one <tu> per segment of a, tuid "id@rev#n" from 1.
func appendTUs(b *bytes.Buffer, a *article.Article) {
	key := a.ID + "@" + strconv.Itoa(a.Rev)
	units := strconv.Itoa(len(a.Segments))
	for i, s := range a.Segments {
		b.WriteString("<tu")
		attr(b, "tuid", key+"#"+strconv.Itoa(i+1))
		b.WriteString(">\n")
		prop(b, "x-dewire-id", a.ID)
		prop(b, "x-dewire-rev", strconv.Itoa(a.Rev))
		prop(b, "x-dewire-para", strconv.Itoa(s.Para))
		prop(b, propKey, key)
		if a.Hash != "" {
			prop(b, propHash, a.Hash)
		}
		prop(b, propUnits, units)
		tuv(b, "de", s.DE)
		tuv(b, "en", s.EN)
		b.WriteString("</tu>\n")
	}
}

func attr(b *bytes.Buffer, name, value string) {
	b.WriteByte(' ')
	b.WriteString(name)
	b.WriteString("=\"")
	escape(b, value, true)
	b.WriteByte('"')
}

func prop(b *bytes.Buffer, typ, value string) {
	b.WriteString("  <prop")
	attr(b, "type", typ)
	b.WriteByte('>')
	escape(b, value, false)
	b.WriteString("</prop>\n")
}

func tuv(b *bytes.Buffer, lang, text string) {
	b.WriteString("  <tuv")
	attr(b, "xml:lang", lang)
	b.WriteString("><seg>")
	escape(b, text, false)
	b.WriteString("</seg></tuv>\n")
}

// escape writes s as XML character data, dropping invalid UTF-8 and the
// characters XML 1.0 does not allow.
func escape(b *bytes.Buffer, s string, inAttr bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"' && inAttr:
			b.WriteString("&quot;")
		case r == '\r':
			b.WriteString("&#13;")
		case (r == '\t' || r == '\n') && inAttr:
			fmt.Fprintf(b, "&#%d;", r)
		case validXMLChar(r):
			b.WriteRune(r)
		}
	}
}

// SanitizeXML is s as a TMX reader will read it back: without invalid
// UTF-8 and characters XML 1.0 forbids.
func SanitizeXML(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !validXMLChar(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

func validXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// TMXEncoder streams a TMX document to a writer: the header before the
// first article, the closing tags on Close.
type TMXEncoder struct {
	w       io.Writer
	h       TMXHeader
	started bool
	buf     bytes.Buffer
}

// NewTMXEncoder returns an encoder writing to w.
func NewTMXEncoder(w io.Writer, h TMXHeader) *TMXEncoder { return &TMXEncoder{w: w, h: h} }

// Encode writes the article's sentence pairs.
func (e *TMXEncoder) Encode(a *article.Article) error {
	e.buf.Reset()
	if !e.started {
		appendTMXHeader(&e.buf, e.h)
		e.started = true
	}
	appendTUs(&e.buf, a)
	_, err := e.w.Write(e.buf.Bytes())
	return err
}

// Close writes the closing tags (and the header, for an empty document).
// It does not close the underlying writer.
func (e *TMXEncoder) Close() error {
	e.buf.Reset()
	if !e.started {
		appendTMXHeader(&e.buf, e.h)
		e.started = true
	}
	e.buf.WriteString(tmxClose)
	_, err := e.w.Write(e.buf.Bytes())
	return err
}
