// Package worker runs one worker kind as a process of its own against a NATS
// server, as containers do: it serves the probes, connects (waiting and
// retrying while NATS is unreachable instead of exiting), optionally creates
// the topology, and calls the kind's entry point — the same one `dewire run`
// calls in a single process.
package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
	"github.com/dewire/dewire/workers/normalize"
	"github.com/dewire/dewire/workers/sink"
	"github.com/dewire/dewire/workers/stage"
	"github.com/dewire/dewire/workers/translate"
)

// Worker kinds.
const (
	Ingest    = "ingest"
	Normalize = "normalize"
	Translate = "translate"
	Sink      = "sink"
)

// Kinds lists the worker kinds.
func Kinds() []string { return []string{Ingest, Normalize, Translate, Sink} }

// ErrUnknownKind is returned for a kind not in Kinds.
var ErrUnknownKind = errors.New("unknown worker kind")

// Config configures one worker process.
type Config struct {
	Kind     string
	Conn     bus.Conn
	Topology bus.Topology
	// Setup creates or updates the topology at start (needs admin rights).
	Setup    bool
	HTTPAddr string
	// HTTP locks and places the HTTP endpoints (auth for POST /articles,
	// TLS, a separate metrics address).
	HTTP        HTTPOptions
	Concurrency int
	Grace       time.Duration
	Log         *zap.Logger
	// Probes, when set, are used instead of new ones (tests read them).
	Probes *Probes

	Ingest    ingest.Options
	Normalize normalize.Options
	Translate translate.Options
	Sink      sink.Options
}

// Run runs the worker until ctx ends (for ingest without Serve or Watch:
// until its inputs are published). Only errors that waiting cannot cure end
// it early: an unknown kind, a busy HTTP address, a misconfigured
// connection, an engine that refuses the credentials.
func Run(ctx context.Context, cfg Config) error {
	known := false
	for _, k := range Kinds() {
		known = known || k == cfg.Kind
	}
	if !known {
		return fmt.Errorf("%w %q: want ingest, normalize, translate or sink", ErrUnknownKind, cfg.Kind)
	}
	log := cfg.Log
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("worker", cfg.Kind))
	probes := cfg.Probes
	if probes == nil {
		probes = NewProbes()
	}
	probes.Health.Set("nats", errors.New("connecting"))
	if cfg.Kind == Ingest {
		probes.Expect("/articles")
	}
	if err := probes.ServeWith(ctx, cfg.HTTPAddr, cfg.HTTP, log); err != nil {
		return err
	}
	if cfg.Conn.Name == "" {
		cfg.Conn.Name = "dewire-" + cfg.Kind
	}
	nc, err := Connect(ctx, cfg.Conn, log)
	if err != nil {
		return err
	}
	if nc == nil {
		return nil // stopped before NATS could be reached
	}
	defer drain(nc, log)
	probes.Health.Set("nats", nil)
	probes.Health.Watch("nats", func() error {
		if st := nc.Status(); st != nats.CONNECTED {
			return fmt.Errorf("nats %s", st)
		}
		return nil
	})
	js, err := bus.JetStream(nc)
	if err != nil {
		return err
	}
	env := stage.Env{
		JS: js, Log: log, Metrics: stage.NewMetrics(probes.Registry), Registry: probes.Registry,
		Concurrency: cfg.Concurrency, Grace: cfg.Grace, Health: probes.Health, Mux: probes.Mux,
	}
	if cfg.Setup {
		_ = env.Retry(ctx, "setup", func(ctx context.Context) error {
			sctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if err := cfg.Topology.Ensure(sctx, js); err != nil {
				return fmt.Errorf("topology: %w (run `dewire setup` with an admin account, then start workers without --setup)", err)
			}
			probes.Health.Set("setup", nil)
			return nil
		})
	}
	if ctx.Err() != nil {
		return nil
	}
	log.Info("worker started", zap.Int("concurrency", cfg.Concurrency))
	switch cfg.Kind {
	case Ingest:
		err = ingest.Run(ctx, env, cfg.Ingest)
	case Normalize:
		err = normalize.Run(ctx, env, cfg.Normalize)
	case Translate:
		err = translate.Run(ctx, env, cfg.Translate)
	case Sink:
		err = sink.Run(ctx, env, cfg.Sink)
	}
	log.Info("worker stopped")
	return err
}

// Connect dials NATS, retrying with backoff (0.5 s doubling to 15 s) while
// the server is unreachable, each failure logged with the URL tried. It
// returns nil, nil when ctx ends first, and an error only for a connection
// that cannot work as configured.
func Connect(ctx context.Context, c bus.Conn, log *zap.Logger) (*nats.Conn, error) {
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		nc, err := bus.Connect(cctx, c, log)
		cancel()
		if err == nil {
			if attempt > 1 {
				log.Info("nats reachable", zap.Int("attempts", attempt))
			}
			return nc, nil
		}
		if errors.Is(err, bus.ErrConfig) {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		log.Warn("nats unreachable; retrying", zap.Error(err), zap.Duration("in", delay), zap.Int("attempt", attempt))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil
		case <-t.C:
		}
		delay = min(2*delay, 15*time.Second)
	}
}

// drain flushes and closes the connection, waiting at most 10 s.
func drain(nc *nats.Conn, log *zap.Logger) {
	if err := nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		log.Warn("drain", zap.Error(err))
	}
	deadline := time.Now().Add(10 * time.Second)
	for !nc.IsClosed() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	nc.Close()
}
