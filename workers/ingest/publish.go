package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/stage"
)

// Outcome says what became of one ingested item.
type Outcome int

// Outcomes of Publisher.Article and Publisher.Reject.
const (
	Published Outcome = iota // a new article or revision went to articles.raw
	Duplicate                // same id and content as the latest published revision: nothing sent
	Rejected                 // a rejection record went to articles.rejected
)

// Publisher sends intake results into the pipeline.
type Publisher struct {
	JS        jetstream.JetStream
	Revisions article.RevisionStore
	Now       func() time.Time
	// OnAssigned, when set, is called with the revision assigned, just
	// before the article is published (not for duplicates).
	OnAssigned func(a *article.Article)
}

// Article assigns a's revision and publishes it to articles.raw.<source>,
// waiting for the PubAck. a.Rev is set on return.
func (p *Publisher) Article(ctx context.Context, a *article.Article) (Outcome, error) {
	start := p.now()
	rev, dup, err := p.Revisions.Assign(ctx, a.ID, a.Hash)
	if err != nil {
		return 0, err
	}
	a.Rev = rev
	if dup {
		return Duplicate, nil
	}
	if a.Schema == "" {
		a.Schema = article.Schema
	}
	a.AddTrace(article.StageIngest, p.now(), p.now().Sub(start))
	if p.OnAssigned != nil {
		p.OnAssigned(a)
	}
	out, err := stage.ArticleOut(bus.Raw, a)
	if err != nil {
		return 0, err
	}
	if err := p.send(ctx, out); err != nil {
		return 0, err
	}
	if err := p.Revisions.Confirm(ctx, a.ID, a.Rev); err != nil {
		return 0, err
	}
	return Published, nil
}

// Reject publishes a rejection record (r.Reject set) to articles.rejected.<source>.
func (p *Publisher) Reject(ctx context.Context, r *article.Article) (Outcome, error) {
	if r.Reject == nil {
		return 0, fmt.Errorf("reject %s: record has no reason", r.ID)
	}
	if r.Schema == "" {
		r.Schema = article.Schema
	}
	data, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("encode rejection %s: %w", r.ID, err)
	}
	h := nats.Header{}
	h.Set(bus.HeaderID, r.ID)
	h.Set(bus.HeaderRev, "0")
	h.Set(bus.HeaderReason, r.Reject.Code)
	out := stage.Out{Subject: bus.Subject(bus.Rejected, r.Source.Name), MsgID: bus.MsgID(r.ID, 0, bus.Rejected), Data: data, Header: h}
	if err := p.send(ctx, out); err != nil {
		return 0, err
	}
	return Rejected, nil
}

func (p *Publisher) send(ctx context.Context, o stage.Out) error {
	_, err := p.JS.PublishMsg(ctx, &nats.Msg{Subject: o.Subject, Data: o.Data, Header: o.Header}, jetstream.WithMsgID(o.MsgID))
	if err != nil {
		return fmt.Errorf("publish %s: %w", o.MsgID, err)
	}
	return nil
}

func (p *Publisher) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
