package normalize

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/intake"
)

// Offline limits: a document normalized offline may be long; only a limit
// the caller sets makes one too large.
const (
	OfflineMaxBytes      = 256 << 20
	OfflineMaxParagraphs = 1 << 20
)

// ErrRejected is returned (wrapped) by Batch.Run when some inputs were
// rejected (too large, malformed); the others were still written.
var ErrRejected = errors.New("normalize: inputs rejected")

// Batch normalizes the articles of offline inputs (plain text, JSON or JSON
// Lines, one article per line) and writes each one as soon as it is done:
// the plain layout, or one JSON record per line. The zero Limits mean the
// offline defaults.
type Batch struct {
	Normalizer *Normalizer
	Limits     intake.Limits
	JSON       bool      // JSON Lines records (edits and flags included) instead of the plain layout
	Errors     io.Writer // where rejections are reported in the plain layout; nil: dropped
	written    int
	rejected   int
}

// Separator stands between two articles in the plain layout: a line with
// one form feed.
const Separator = "\f\n"

// Run normalizes every article of r, read as from origin o, and writes them
// to w. It stops at the first read or write error or when ctx is done.
func (b *Batch) Run(ctx context.Context, r io.Reader, o intake.Origin, w io.Writer) error {
	lim := b.Limits
	if lim.MaxBytes == 0 {
		lim.MaxBytes = OfflineMaxBytes
	}
	if lim.MaxParagraphs == 0 {
		lim.MaxParagraphs = OfflineMaxParagraphs
	}
	if lim.MaxTitle == 0 {
		lim.MaxTitle = lim.MaxBytes
	}
	bw := bufio.NewWriter(w)
	rd := &intake.Reader{Limits: lim}
	lang := b.Normalizer.Lang()
	err := rd.Read(ctx, r, o, func(it intake.Item) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		a := it.Article
		if it.Reject != nil {
			b.rejected++
			if b.JSON {
				return b.emitJSON(bw, it.Reject)
			}
			if b.Errors != nil {
				where := o.Path
				if it.Line > 0 {
					where = fmt.Sprintf("%s line %d", o.Path, it.Line)
				}
				fmt.Fprintf(b.Errors, "%s: %s: %s\n", where, it.Reject.Reject.Code, it.Reject.Reject.Reason)
			}
			return nil
		}
		a.Rev = 1
		if lang == "en" {
			// The reader fills the German slot; English input belongs in the English one.
			en := a.DE
			a.EN, a.DE = &en, article.Text{}
		}
		if err := b.Normalizer.ApplyContext(ctx, a, nil); err != nil {
			return err
		}
		if b.JSON {
			return b.emitJSON(bw, a)
		}
		if b.written > 0 {
			if _, err := bw.WriteString(Separator); err != nil {
				return err
			}
		}
		b.written++
		if _, err := bw.WriteString(intake.FormatPlain(kept(a.Text(lang)))); err != nil {
			return err
		}
		return bw.Flush() // stream: each article leaves as soon as it is done
	})
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("normalize: write: %w", ferr)
	}
	if err != nil {
		return err
	}
	return nil
}

// Rejected reports how many inputs Run has rejected so far.
func (b *Batch) Rejected() int { return b.rejected }

// Err returns ErrRejected (wrapped, with the count) when inputs were rejected.
func (b *Batch) Err() error {
	if b.rejected > 0 {
		return fmt.Errorf("%w: %d", ErrRejected, b.rejected)
	}
	return nil
}

func (b *Batch) emitJSON(bw *bufio.Writer, a *article.Article) error {
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		return err
	}
	b.written++
	return bw.Flush()
}

// kept is t without the paragraphs debris removal emptied.
func kept(t *article.Text) *article.Text {
	empty := false
	for _, p := range t.Paragraphs {
		empty = empty || p == ""
	}
	if !empty {
		return t
	}
	c := *t
	c.Paragraphs = nil
	for _, p := range t.Paragraphs {
		if p != "" {
			c.Paragraphs = append(c.Paragraphs, p)
		}
	}
	return &c
}
