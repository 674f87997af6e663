package local

import (
	"context"
	"hash/fnv"
	"sync"

	"github.com/dewire/dewire/pipeline/intake"
)

// shards runs emit on n goroutines; items with the same article id always
// go to the same goroutine, so they are published in input order.
type shards struct {
	queues []chan intake.Item
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
	ctx    context.Context
	cancel context.CancelFunc
}

func newShards(parent context.Context, n int, emit func(context.Context, intake.Item) error) *shards {
	ctx, cancel := context.WithCancel(parent)
	s := &shards{queues: make([]chan intake.Item, n), ctx: ctx, cancel: cancel}
	for i := range s.queues {
		q := make(chan intake.Item, 16)
		s.queues[i] = q
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for it := range q {
				if ctx.Err() != nil {
					continue
				}
				if err := emit(ctx, it); err != nil {
					s.fail(err)
				}
			}
		}()
	}
	return s
}

func (s *shards) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
		s.cancel()
	}
}

// submit queues an item; it returns the first emit error so far, which
// stops the reading of further input.
func (s *shards) submit(_ context.Context, it intake.Item) error {
	id := ""
	switch {
	case it.Article != nil:
		id = it.Article.ID
	case it.Reject != nil:
		id = it.Reject.ID
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	select {
	case s.queues[int(h.Sum32()%uint32(len(s.queues)))] <- it:
	case <-s.ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// wait closes the queues and waits for every queued item.
func (s *shards) wait() error {
	for _, q := range s.queues {
		close(q)
	}
	s.wg.Wait()
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
