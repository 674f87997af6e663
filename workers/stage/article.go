package stage

import (
	"context"
	"fmt"
	json "github.com/goccy/go-json"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/bus"
)

// DecodeArticle reads a record from a message body. A body that is not a
// dewire.article/v1 record can never succeed: the error is Permanent.
func DecodeArticle(data []byte) (*article.Article, error) {
	var a article.Article
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, Permanent(fmt.Errorf("not an article record: %w", err))
	}
	if a.Schema != article.Schema {
		return nil, Permanent(fmt.Errorf("record schema %q, want %q", a.Schema, article.Schema))
	}
	if a.ID == "" || a.Rev < 1 {
		return nil, Permanent(fmt.Errorf("record without id or revision (id %q, rev %d)", a.ID, a.Rev))
	}
	return &a, nil
}

// ArticleOut encodes a for the subject of the given bus stage, with the
// deterministic message id and the id/rev headers.
func ArticleOut(busStage string, a *article.Article) (Out, error) {
	data, err := article.Marshal(a)
	if err != nil {
		return Out{}, Permanent(fmt.Errorf("encode %s: %w", a.Key(), err))
	}
	return Out{
		Subject: bus.Subject(busStage, a.Source.Name),
		MsgID:   bus.MsgID(a.ID, a.Rev, busStage),
		Data:    data,
		Header:  ArticleHeader(a),
	}, nil
}

// ArticleHeader carries the id and revision so logs and dead letters can
// name an article without decoding it.
func ArticleHeader(a *article.Article) nats.Header {
	h := nats.Header{}
	h.Set(bus.HeaderID, a.ID)
	h.Set(bus.HeaderRev, strconv.Itoa(a.Rev))
	return h
}

// ArticleFunc changes an article in place for one stage.
type ArticleFunc func(ctx context.Context, a *article.Article) error

// Articles adapts fn into a Handler that decodes the record, runs fn, adds
// the trace step and publishes the result to the next bus stage. An empty
// next publishes nothing (the sink).
func Articles(stageName, next string, fn ArticleFunc) Handler {
	return func(ctx context.Context, m Msg) ([]Out, error) {
		a, err := DecodeArticle(m.Data)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		if err := fn(ctx, a); err != nil {
			return nil, fmt.Errorf("%s %s: %w", stageName, a.Key(), err)
		}
		if next == "" {
			return nil, nil
		}
		a.AddTrace(stageName, time.Now(), time.Since(start))
		out, err := ArticleOut(next, a)
		if err != nil {
			return nil, err
		}
		return []Out{out}, nil
	}
}
