package sink

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/stage"
)

// Writer is an additional destination for clean records (TMX, PostgreSQL).
// Writes must be idempotent on (id, rev) by themselves, across crashes, and
// resolve a record whose (id, rev) they hold with other content the way
// JSONL does: under the next free revision, flagged FlagRevisionReassigned.
// A Writer must not change the record it is given.
type Writer interface {
	Write(ctx context.Context, a *article.Article) error
}

// Sink writes clean records to the extra writers, then to JSONL: a record in
// the JSONL is in every writer, so a redelivery of it touches none of them.
// The zero value of its unexported fields is ready to use.
type Sink struct {
	JSONL  *JSONL
	Extras []Writer
	// OnWritten, when set, is called once per handled record after it is
	// stored (fresh is false when the record had been stored before). a is
	// the record as delivered, so a.Key() names the message; when its
	// content was stored under another revision, a carries the
	// FlagRevisionReassigned flag that names it.
	OnWritten func(a *article.Article, fresh bool)

	mu   sync.Mutex
	busy map[string]chan struct{} // ids being written; closed when done
}

// Handler is the stage handler of the sink consumer.
func (s *Sink) Handler() stage.Handler {
	return stage.Articles("sink", "", s.write)
}

// lock gives the caller id alone: deciding a record's revision and writing
// it must not interleave with another record of the same id.
func (s *Sink) lock(ctx context.Context, id string) (unlock func(), err error) {
	for {
		s.mu.Lock()
		if s.busy == nil {
			s.busy = map[string]chan struct{}{}
		}
		ch, held := s.busy[id]
		if !held {
			ch = make(chan struct{})
			s.busy[id] = ch
			s.mu.Unlock()
			return func() {
				s.mu.Lock()
				delete(s.busy, id)
				s.mu.Unlock()
				close(ch)
			}, nil
		}
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (s *Sink) write(ctx context.Context, a *article.Article) error {
	if err := validRecord(a); err != nil {
		return stage.Permanent(err) // before any writer sees it
	}
	unlock, err := s.lock(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("sink: %w", err)
	}
	defer unlock()
	rev, dup := s.JSONL.resolve(a)
	if dup {
		if s.OnWritten != nil {
			s.OnWritten(a, false)
		}
		return nil
	}
	rec := a
	if rev != a.Rev {
		rec = Reassign(a, rev)
		a.Flags = append(a.Flags, rec.Flags[len(rec.Flags)-1])
	}
	rec.AddTrace(article.StageSink, time.Now(), 0)
	for _, w := range s.Extras {
		if err := w.Write(ctx, rec); err != nil {
			return fmt.Errorf("sink: %w", err)
		}
	}
	fresh, err := s.JSONL.Write(rec)
	if err != nil {
		return err
	}
	if s.OnWritten != nil {
		s.OnWritten(a, fresh)
	}
	return nil
}

// Config fills the stage configuration of the sink consumer.
func Config(base stage.Config) stage.Config {
	base.Name, base.Stream, base.Consumer = article.StageSink, bus.StreamClean, bus.ConsumerSink
	return base
}
