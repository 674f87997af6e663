package ingest

import (
	"context"
	"encoding/json"
	"errors"
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
	// Republished: the server already held this revision (an earlier
	// attempt was stored but never confirmed, e.g. a run interrupted
	// mid-publish); it is confirmed now and flows (or flowed) once.
	Republished
)

// ErrTooLarge is returned for a record larger than the server's max_payload:
// it can never be delivered, so it is rejected instead of retried.
var ErrTooLarge = errors.New("record larger than the server's max_payload")

// String names the outcome as the HTTP endpoint reports it.
func (o Outcome) String() string {
	switch o {
	case Published:
		return "published"
	case Duplicate:
		return "duplicate"
	case Rejected:
		return "rejected"
	case Republished:
		return "republished"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Publisher sends intake results into the pipeline.
type Publisher struct {
	JS        jetstream.JetStream
	Revisions article.RevisionStore
	Now       func() time.Time
	// OnAssigned, when set, is called with the revision assigned, just
	// before the article is published (not for duplicates).
	OnAssigned func(a *article.Article)
	// Seed, when set, tells what a sink already holds for an id (its latest
	// revision and content hash), so a fresh revision store continues the
	// numbering instead of starting again at 1. Used only with a Seeder store.
	Seed func(id string) (rev int, hash string, ok bool)
	// Timeout bounds the wait for one PubAck (default 10 s).
	Timeout time.Duration
}

// Seeder is a RevisionStore that can be told of a revision stored elsewhere.
type Seeder interface {
	// Seed records (id, rev, hash) as published unless the store knows id.
	Seed(ctx context.Context, id string, rev int, hash string) error
}

// Article assigns a's revision and publishes it to articles.raw.<source>,
// waiting for the PubAck. a.Rev is set on return.
func (p *Publisher) Article(ctx context.Context, a *article.Article) (Outcome, error) {
	start := p.now()
	if p.Seed != nil {
		if sd, ok := p.Revisions.(Seeder); ok {
			if rev, hash, known := p.Seed(a.ID); known {
				if err := sd.Seed(ctx, a.ID, rev, hash); err != nil {
					return 0, err
				}
			}
		}
	}
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
	dupAck, err := p.send(ctx, out)
	if err != nil {
		return 0, err
	}
	if err := p.Revisions.Confirm(ctx, a.ID, a.Rev); err != nil {
		return 0, err
	}
	if dupAck {
		return Republished, nil
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
	if _, err := p.send(ctx, out); err != nil {
		return 0, err
	}
	return Rejected, nil
}

// send publishes o and waits for the PubAck (at most publishTimeout);
// duplicate says the server already held a message with o's id.
func (p *Publisher) send(ctx context.Context, o stage.Out) (duplicate bool, err error) {
	msg := &nats.Msg{Subject: o.Subject, Data: o.Data, Header: o.Header}
	if limit := p.JS.Conn().MaxPayload(); limit > 0 && int64(msgSize(msg)) > limit {
		return false, fmt.Errorf("publish %s: %w (%d bytes, max_payload %d)", o.MsgID, ErrTooLarge, msgSize(msg), limit)
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = publishTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ack, err := p.JS.PublishMsg(ctx, msg, jetstream.WithMsgID(o.MsgID))
	if err != nil {
		return false, fmt.Errorf("publish %s: %w", o.MsgID, err)
	}
	return ack.Duplicate, nil
}

// publishTimeout bounds the wait for one PubAck.
const publishTimeout = 10 * time.Second

// msgSize is what a message counts against max_payload: data and headers.
func msgSize(m *nats.Msg) int {
	n := len(m.Data)
	for k, vs := range m.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n + len(jetstream.MsgIDHeader) + 64
}

func (p *Publisher) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
