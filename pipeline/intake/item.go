package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/dewire/dewire/pipeline/article"
)

// item turns one input item's bytes into an accepted article or a rejection.
// line is the JSONL line number, 0 for a whole file.
func (p *parser) item(raw []byte, format Format, line int) Item {
	where := ""
	if line > 0 {
		where = fmt.Sprintf("line %d: ", line)
	}
	offset := 0
	data := raw
	if bytes.HasPrefix(data, bom) {
		data, offset = data[len(bom):], len(bom)
	}
	if i := invalidUTF8(data); i >= 0 {
		return Item{Reject: p.rejectRaw(nil, CodeInvalidUTF8,
			fmt.Sprintf("%sinvalid UTF-8 at byte %d", where, offset+i), raw)}
	}
	var (
		text article.Text
		src  = article.Source{}
	)
	switch format {
	case Plain:
		if i, r := controlChar(string(data)); i >= 0 {
			return Item{Reject: p.rejectRaw(nil, CodeControlChars,
				fmt.Sprintf("%scontrol character %U at byte %d", where, r, offset+i), raw)}
		}
		text = ParsePlain(string(data))
	case HTML:
		var err error
		if text, err = ParseHTML(bytes.NewReader(data)); err != nil {
			return Item{Reject: p.rejectRaw(nil, CodeBadHTML, where+"HTML: "+err.Error(), raw)}
		}
		if i, r := controlChar(text.Title + "\n" + strings.Join(text.Paragraphs, "\n")); i >= 0 {
			return Item{Reject: p.rejectRaw(nil, CodeControlChars, fmt.Sprintf("%scontrol character %U in the page's text", where, r), raw)}
		}
	default:
		doc, code, reason := decodeJSON(data)
		if code != "" {
			known := doc.source
			return Item{Reject: p.rejectRaw(&known, code, where+reason, raw)}
		}
		text, src = doc.text, doc.source
	}
	switch {
	case text.Title == "" && len(text.Paragraphs) == 0 && text.Lead == "":
		return Item{Reject: p.rejectRaw(&src, CodeEmpty, where+"no title and no paragraphs", raw)}
	case len(text.Title) > p.lim.MaxTitle:
		return Item{Reject: p.rejectRaw(&src, CodeTooLarge,
			fmt.Sprintf("%stitle is %d bytes, more than the limit of %d", where, len(text.Title), p.lim.MaxTitle), raw)}
	case len(text.Paragraphs) > p.lim.MaxParagraphs:
		return Item{Reject: p.rejectRaw(&src, CodeTooManyParagraphs,
			fmt.Sprintf("%s%d paragraphs, more than the limit of %d", where, len(text.Paragraphs), p.lim.MaxParagraphs), raw)}
	}
	a := p.record(&src, article.ContentHash(&text))
	if line == 0 && p.origin.File != "" && src.GUID == "" && src.URL == "" {
		a.ID = fileID(a.Source.Name, p.origin.File)
	}
	a.DE = text
	if p.gate != nil {
		ok, code, conf := p.gate.IsGerman(&a.DE)
		a.Lang = article.Lang{Code: code, Confidence: conf}
		if !ok {
			rej := &article.Reject{Code: CodeNotGerman, Raw: truncate(raw)}
			switch code {
			case "":
				rej.Code, rej.Reason = CodeUndetermined, where+"language could not be determined"
			case "de":
				rej.Code, rej.Reason = CodeUndetermined, fmt.Sprintf("%sGerman with confidence %.2f only, below the threshold", where, conf)
			default:
				rej.Reason = fmt.Sprintf("%sdetected language %s with confidence %.2f, want de", where, code, conf)
			}
			a.Reject = rej
			return Item{Reject: a}
		}
	}
	return Item{Article: a}
}

// fileID identifies the article a file holds by its source and its path
// within the source, as 32 hex digits like article.NewID.
func fileID(source, file string) string {
	sum := sha256.Sum256([]byte("file:" + source + "\x00" + filepath.ToSlash(filepath.Clean(file))))
	return hex.EncodeToString(sum[:16])
}

// record starts an article from what is known of its source.
func (p *parser) record(known *article.Source, hash string) *article.Article {
	src := article.Source{Name: p.origin.Name, Path: p.origin.Path, IngestedAt: p.now().UTC()}
	if src.Path == "-" {
		src.Path = ""
	}
	if known != nil {
		if known.Name != "" {
			src.Name = known.Name
		}
		src.URL, src.GUID, src.PublishedAt = known.URL, known.GUID, known.PublishedAt
	}
	return &article.Article{
		Schema: article.Schema,
		ID:     article.NewID(src, hash),
		Hash:   hash,
		Source: src,
	}
}

// rejectRaw makes a rejection record identified by the raw bytes' hash (or by
// the source's GUID or URL when known), so a rejection is idempotent too.
func (p *parser) rejectRaw(known *article.Source, code, reason string, raw []byte) *article.Article {
	sum := sha256.Sum256(raw)
	return p.reject(known, code, reason, raw, hex.EncodeToString(sum[:]))
}

func (p *parser) reject(known *article.Source, code, reason string, raw []byte, hash string) *article.Article {
	a := p.record(known, hash)
	a.Reject = &article.Reject{Code: code, Reason: reason, Raw: truncate(raw)}
	return a
}

// truncate copies at most MaxRaw bytes of raw.
func truncate(raw []byte) []byte {
	return bytes.Clone(raw[:min(len(raw), MaxRaw)])
}

// invalidUTF8 returns the offset of the first byte that is not valid UTF-8, or -1.
func invalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// controlChar returns the offset and value of the first C0 or C1 control
// character (DEL included) other than tab, line feed and carriage return, or
// -1. s must be valid UTF-8.
func controlChar(s string) (int, rune) {
	for i, r := range s {
		if isControl(r) {
			return i, r
		}
	}
	return -1, 0
}

func isControl(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	}
	return false
}
