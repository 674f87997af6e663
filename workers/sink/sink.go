package sink

import (
	"context"
	"fmt"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/stage"
)

// Writer is an additional destination for clean records (TMX, PostgreSQL).
// Writes must be idempotent on (id, rev).
type Writer interface {
	Write(ctx context.Context, a *article.Article) error
}

// Sink writes clean records to JSONL and any extra writers.
type Sink struct {
	JSONL  *JSONL
	Extras []Writer
	// OnWritten, when set, is called once per record after it is stored
	// (fresh is false when the record had been stored before).
	OnWritten func(a *article.Article, fresh bool)
}

// Handler is the stage handler of the sink consumer.
func (s *Sink) Handler() stage.Handler {
	return stage.Articles("sink", "", s.write)
}

func (s *Sink) write(ctx context.Context, a *article.Article) error {
	if s.JSONL.Has(a.ID, a.Rev) {
		if s.OnWritten != nil {
			s.OnWritten(a, false)
		}
		return nil
	}
	a.AddTrace(article.StageSink, time.Now(), 0)
	for _, w := range s.Extras {
		if err := w.Write(ctx, a); err != nil {
			return fmt.Errorf("sink: %w", err)
		}
	}
	fresh, err := s.JSONL.Write(a)
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
