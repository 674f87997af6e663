package stage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/dewire/dewire/workers/bus"
)

// Env is what every worker kind's entry point (normalize.Run, translate.Run,
// sink.Run, ingest.Run) needs from the process that runs it. `dewire worker
// <kind>` and `dewire run` build it the same way and call the same entry
// points, so one process and many containers run the same code.
type Env struct {
	JS  jetstream.JetStream
	Log *zap.Logger
	// Metrics is shared by every stage of the process (nil: unregistered).
	Metrics *Metrics
	// Registry is where worker kinds register their own metrics (nil: nowhere).
	Registry prometheus.Registerer
	// Concurrency is how many messages each stage of this replica handles at once.
	Concurrency int
	// Grace bounds how long in-flight work may finish after the context ends.
	Grace time.Duration
	// Health collects what /readyz reports (nil: nothing reported).
	Health *Health
	// Mux, when set, is where kinds that take requests (ingest's POST
	// /articles) register their handlers.
	Mux *http.ServeMux
	// OnDeadLetter, when set, is told about every message a stage or DLQ
	// mover of this process dead-letters.
	OnDeadLetter func(m Msg, reason string)
}

func (e Env) log() *zap.Logger {
	if e.Log == nil {
		return zap.NewNop()
	}
	return e.Log
}

// Base is the stage configuration every stage of e starts from.
func (e Env) Base() Config {
	if e.Metrics == nil {
		e.Metrics = NewMetrics(nil)
	}
	return Config{Concurrency: e.Concurrency, Grace: e.Grace, Log: e.log(), Metrics: e.Metrics, OnDeadLetter: e.OnDeadLetter}
}

// RunStage runs one stage until ctx ends. Binding its consumer is retried
// with backoff (a leader election or a missing `dewire setup` is waited out,
// logged, and reported on /readyz) instead of ending the process.
func (e Env) RunStage(ctx context.Context, cfg Config, h Handler) error {
	check := "stage " + cfg.Name
	return e.Retry(ctx, check, func(ctx context.Context) error {
		bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := bus.Consumer(bctx, e.JS, cfg.Stream, cfg.Consumer)
		cancel()
		if err != nil {
			return err
		}
		e.Health.Set(check, nil)
		return Run(ctx, e.JS, cfg, h)
	})
}

// RunMover moves the exhausted messages of one durable consumer to the DLQ
// until ctx ends, binding like RunStage.
func (e Env) RunMover(ctx context.Context, durable string) error {
	check := "dlq mover " + durable
	return e.Retry(ctx, check, func(ctx context.Context) error {
		e.Health.Set(check, nil)
		return MoveDeadLetters(ctx, e.JS, durable, e.log(), e.Base().Metrics, e.OnDeadLetter)
	})
}

// Retry runs fn until it returns nil or ctx ends, waiting with backoff
// (0.5 s doubling to 15 s) between failures. While it fails, the named
// check reports the error on /readyz.
func (e Env) Retry(ctx context.Context, check string, fn func(context.Context) error) error {
	delay := 500 * time.Millisecond
	for {
		err := fn(ctx)
		if err == nil || ctx.Err() != nil {
			return nil
		}
		e.Health.Set(check, err)
		e.log().Warn(check+" failed; retrying", zap.Error(err), zap.Duration("in", delay))
		if !sleep(ctx, delay) {
			return nil
		}
		delay = min(2*delay, 15*time.Second)
	}
}

// Group runs every function until ctx ends or one of them fails; a failure
// stops the others and is returned.
func Group(parent context.Context, fns ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(fns))
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil {
				errs[i] = err
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Health is the readiness of one process: named checks, each failing with
// an error or passing. The zero value and a nil *Health are ready.
type Health struct {
	mu     sync.Mutex
	checks map[string]error
	funcs  map[string]func() error
}

// Set records the state of a check (nil: passing).
func (h *Health) Set(name string, err error) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.checks == nil {
		h.checks = map[string]error{}
	}
	h.checks[name] = err
}

// Watch adds a check that is evaluated on every Err call (e.g. the NATS
// connection's status).
func (h *Health) Watch(name string, f func() error) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.funcs == nil {
		h.funcs = map[string]func() error{}
	}
	h.funcs[name] = f
}

// Err is nil when every check passes, else one error naming each failing check.
func (h *Health) Err() error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	failing := map[string]error{}
	for name, err := range h.checks {
		if err != nil {
			failing[name] = err
		}
	}
	funcs := make(map[string]func() error, len(h.funcs))
	for name, f := range h.funcs {
		funcs[name] = f
	}
	h.mu.Unlock()
	for name, f := range funcs {
		if err := f(); err != nil {
			failing[name] = err
		}
	}
	if len(failing) == 0 {
		return nil
	}
	names := make([]string, 0, len(failing))
	for name := range failing {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s: %v", name, failing[name])
	}
	return errors.New(strings.Join(parts, "; "))
}
