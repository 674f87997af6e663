package ingest

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"github.com/dewire/dewire/pipeline/intake"
)

// shards publishes on n goroutines; items with the same article id always go
// to the same goroutine, so the revisions of one id keep their input order
// while distinct articles are published in parallel.
type shards struct {
	queues []chan job
	wg     sync.WaitGroup
}

// job is one item to publish; done, when set, receives the outcome.
type job struct {
	ctx    context.Context
	it     intake.Item
	done   chan<- result
	then   func(result)    // when set, called with the outcome on the shard
	queued *sync.WaitGroup // Done once the item is handled
	// timeout, when set, bounds the publish from when its shard takes it
	// up, so an item waiting behind others is not cut short.
	timeout time.Duration
}

type result struct {
	out Outcome
	err error
}

func newShards(n int, emit func(context.Context, intake.Item) (Outcome, error)) *shards {
	s := &shards{queues: make([]chan job, max(n, 1))}
	for i := range s.queues {
		q := make(chan job, 16)
		s.queues[i] = q
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for j := range q {
				var r result
				ctx, cancel := j.ctx, context.CancelFunc(func() {})
				if j.timeout > 0 {
					ctx, cancel = context.WithTimeout(ctx, j.timeout)
				}
				if err := ctx.Err(); err != nil {
					r.err = err
				} else {
					r.out, r.err = emit(ctx, j.it)
				}
				cancel()
				if j.then != nil {
					j.then(r)
				}
				if j.done != nil {
					j.done <- r
				}
				if j.queued != nil {
					j.queued.Done()
				}
			}
		}()
	}
	return s
}

// submit queues j on its id's shard; it returns false when ctx ended first.
func (s *shards) submit(j job) bool {
	id := ""
	switch {
	case j.it.Article != nil:
		id = j.it.Article.ID
	case j.it.Reject != nil:
		id = j.it.Reject.ID
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	select {
	case s.queues[int(h.Sum32()%uint32(len(s.queues)))] <- j:
		return true
	case <-j.ctx.Done():
		return false
	}
}

// close waits for every queued item.
func (s *shards) close() {
	for _, q := range s.queues {
		close(q)
	}
	s.wg.Wait()
}
