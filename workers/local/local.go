package local

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/intake"
	pnorm "github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
	wnorm "github.com/dewire/dewire/workers/normalize"
	"github.com/dewire/dewire/workers/sink"
	"github.com/dewire/dewire/workers/stage"
	"github.com/dewire/dewire/workers/translate"
)

// Config configures a local pipeline.
type Config struct {
	DataDir string // JetStream store: <DataDir>/jetstream
	OutDir  string // sink output
	Listen  string // optional host:port so outside clients (desks, `dewire worker`) can connect
	Durable bool   // fsync every JetStream write

	Reader     *intake.Reader
	NormDE     *pnorm.Normalizer
	NormEN     *pnorm.Normalizer
	Translator Translator
	// NewTranslator, used when Translator is nil, builds the translator once
	// the server runs, e.g. with a translation memory in its KV store.
	NewTranslator func(ctx context.Context, js jetstream.JetStream) (Translator, error)
	Extras        []sink.Writer // TMX, PostgreSQL
	OnClose       func()        // called by Close once the stages have stopped (e.g. to close Extras)
	// Concurrency per stage (default 32; the sink uses twice that so its
	// group commit gathers many records per fsync).
	Concurrency int
	Topology    *bus.Topology // default bus.DefaultTopology()
	PauseProbe  time.Duration
	Log         *zap.Logger
	Registry    prometheus.Registerer
}

// Stats counts what happened to the inputs of this run.
type Stats struct {
	Read         int // items read from the inputs
	Published    int // new articles and revisions sent into the pipeline
	Duplicates   int // same id and content as before: nothing sent
	Rejected     int // rejection records
	Clean        int // records the sink stored (of those published in this run)
	DeadLettered int // of those published in this run
	Unreadable   int // files that could not be read at all
	Replayed     int // dead letters sent back into the pipeline
}

// Pending is how many published or replayed articles have not reached the sink or the DLQ.
func (s Stats) Pending() int { return s.Published + s.Replayed - s.Clean - s.DeadLettered }

// Pipeline is a running local pipeline.
type Pipeline struct {
	cfg    Config
	srv    *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	jsonl  *sink.JSONL
	pub    *ingest.Publisher
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errs   chan error

	mu       sync.Mutex
	stats    Stats
	expected map[string]bool // id@rev published this run and not yet settled
	settled  chan struct{}   // signalled whenever an article settles
}

// Start starts the server, creates the topology and runs every stage.
func Start(ctx context.Context, cfg Config) (*Pipeline, error) {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 32
	}
	if cfg.Reader == nil {
		cfg.Reader = &intake.Reader{}
	}
	if cfg.NormDE == nil || cfg.NormEN == nil || (cfg.Translator == nil && cfg.NewTranslator == nil) {
		return nil, errors.New("local: normalizers and translator are required")
	}
	topo := bus.DefaultTopology()
	if cfg.Topology != nil {
		topo = *cfg.Topology
	}
	srv, err := bus.Embedded{StoreDir: filepath.Join(cfg.DataDir, "jetstream"), Listen: cfg.Listen, Durable: cfg.Durable}.Start()
	if err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, srv: srv, expected: map[string]bool{}, settled: make(chan struct{}, 1), errs: make(chan error, 8)}
	if err := p.connect(ctx, topo); err != nil {
		p.shutdownServer()
		return nil, err
	}
	jsonl, err := sink.OpenJSONL(cfg.OutDir)
	if err != nil {
		p.nc.Close()
		p.shutdownServer()
		return nil, err
	}
	p.jsonl = jsonl
	if p.cfg.Translator == nil {
		tr, err := cfg.NewTranslator(ctx, p.js)
		if err != nil {
			_ = p.Close()
			return nil, err
		}
		p.cfg.Translator = tr
	}
	revs, err := ingest.NewKVRevisions(ctx, p.js, bus.BucketRevisions)
	if err != nil {
		_ = p.Close()
		return nil, err
	}
	p.pub = &ingest.Publisher{JS: p.js, Revisions: revs, OnAssigned: p.assigned}
	p.startStages(ctx)
	return p, nil
}

func (p *Pipeline) connect(ctx context.Context, topo bus.Topology) error {
	nc, err := bus.Connect(ctx, bus.Conn{Name: "dewire-run", InProcess: p.srv}, p.cfg.Log)
	if err != nil {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("jetstream: %w", err)
	}
	if err := topo.Ensure(ctx, js); err != nil {
		nc.Close()
		return fmt.Errorf("topology: %w", err)
	}
	p.nc, p.js = nc, js
	return nil
}

func (p *Pipeline) startStages(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	p.cancel = cancel
	met := stage.NewMetrics(p.cfg.Registry)
	base := stage.Config{Concurrency: p.cfg.Concurrency, Log: p.cfg.Log, Metrics: met, OnDeadLetter: p.deadLettered}
	snk := &sink.Sink{JSONL: p.jsonl, Extras: p.cfg.Extras, OnWritten: p.written}
	sinkCfg := sink.Config(base)
	sinkCfg.Concurrency = 2 * p.cfg.Concurrency
	runs := []struct {
		cfg stage.Config
		h   stage.Handler
	}{
		{wnorm.Config(p.cfg.NormDE, base), wnorm.Handler(p.cfg.NormDE)},
		{translate.Config(base), translate.Handler(p.cfg.Translator, p.cfg.PauseProbe)},
		{wnorm.Config(p.cfg.NormEN, base), wnorm.Handler(p.cfg.NormEN)},
		{sinkCfg, snk.Handler()},
	}
	for _, r := range runs {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			if err := stage.Run(ctx, p.js, r.cfg, r.h); err != nil {
				p.errs <- fmt.Errorf("stage %s: %w", r.cfg.Name, err)
			}
		}()
	}
	for _, r := range runs {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			if err := stage.MoveDeadLetters(ctx, p.js, r.cfg.Consumer, p.cfg.Log, met, p.deadLettered); err != nil {
				p.errs <- fmt.Errorf("dlq mover for %s: %w", r.cfg.Consumer, err)
			}
		}()
	}
}

// JetStream is the pipeline's JetStream context (for tests and desk feeds).
func (p *Pipeline) JetStream() jetstream.JetStream { return p.js }

// Server is the embedded server.
func (p *Pipeline) Server() *server.Server { return p.srv }

// Ingest reads the paths (files, folders, "-") into the pipeline. Items
// are published concurrently, sharded by article id so the revisions of one
// id keep their input order. It returns when every item is published.
func (p *Pipeline) Ingest(ctx context.Context, paths []string, opts IngestOptions) error {
	pool := newShards(ctx, p.cfg.Concurrency, p.Emit)
	src := p.source(opts, pool.submit)
	var err error
	if opts.Watch > 0 {
		err = src.Watch(ctx, paths, opts.Watch)
	} else {
		err = src.Paths(ctx, paths)
	}
	return errors.Join(err, pool.wait())
}

// IngestOptions tune Ingest.
type IngestOptions struct {
	Source string        // source name for every item (default: from the folder or file)
	Watch  time.Duration // > 0: keep polling folders at this interval until ctx ends
	Stdin  interface{ Read([]byte) (int, error) }
}

func (p *Pipeline) source(opts IngestOptions, emit func(context.Context, intake.Item) error) *ingest.Source {
	return &ingest.Source{
		Reader: p.cfg.Reader, Name: opts.Source, Stdin: opts.Stdin,
		Emit: emit,
		OnError: func(path string, err error) {
			p.cfg.Log.Error("input unreadable", zap.String("path", path), zap.Error(err))
			p.mu.Lock()
			p.stats.Unreadable++
			p.mu.Unlock()
		},
	}
}

// Emit sends one intake item into the pipeline and counts it.
func (p *Pipeline) Emit(ctx context.Context, it intake.Item) error {
	_, err := p.Publish(ctx, it)
	return err
}

// Publish is Emit that also says what became of the item.
func (p *Pipeline) Publish(ctx context.Context, it intake.Item) (ingest.Outcome, error) {
	p.mu.Lock()
	p.stats.Read++
	p.mu.Unlock()
	if it.Reject != nil {
		if _, err := p.pub.Reject(ctx, it.Reject); err != nil {
			return 0, err
		}
		p.cfg.Log.Info("rejected", zap.String("id", it.Reject.ID), zap.String("code", it.Reject.Reject.Code),
			zap.String("reason", it.Reject.Reject.Reason), zap.String("path", it.Reject.Source.Path))
		p.mu.Lock()
		p.stats.Rejected++
		p.mu.Unlock()
		return ingest.Rejected, nil
	}
	out, err := p.pub.Article(ctx, it.Article)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err != nil:
		if key := it.Article.Key(); p.expected[key] {
			delete(p.expected, key)
			p.stats.Published--
		}
		return 0, err
	case out == ingest.Duplicate:
		p.stats.Duplicates++
	}
	return out, nil
}

// Replay sends the dead letters f selects back into the pipeline and waits
// for them like for ingested articles.
func (p *Pipeline) Replay(ctx context.Context, f stage.ReplayFilter) ([]stage.Replayed, error) {
	got, err := stage.Replay(ctx, p.js, f, false)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range got {
		if r.ID == "" {
			continue
		}
		key := r.ID + "@" + r.Rev
		if !p.expected[key] {
			p.expected[key] = true
			p.stats.Replayed++
		}
	}
	return got, err
}

// assigned registers an article about to be published, so it is waited for.
func (p *Pipeline) assigned(a *article.Article) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expected[a.Key()] = true
	p.stats.Published++
}

func (p *Pipeline) written(a *article.Article, fresh bool) {
	p.settle(a.Key(), func(s *Stats) { s.Clean++ })
}

func (p *Pipeline) deadLettered(m stage.Msg, reason string) {
	id, rev := m.Header.Get(bus.HeaderID), m.Header.Get(bus.HeaderRev)
	if id == "" {
		return
	}
	if _, err := strconv.Atoi(rev); err != nil {
		return
	}
	p.settle(id+"@"+rev, func(s *Stats) { s.DeadLettered++ })
}

// settle marks key done. Articles from earlier runs still in the streams
// settle too but are not counted.
func (p *Pipeline) settle(key string, count func(*Stats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.expected[key] {
		delete(p.expected, key)
		count(&p.stats)
	}
	p.notify()
}

func (p *Pipeline) notify() {
	select {
	case p.settled <- struct{}{}:
	default:
	}
}

// Stats returns the counts so far.
func (p *Pipeline) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Wait blocks until every article published in this run reached the sink or
// the DLQ, or ctx ends. progress, if set, is called on every change.
func (p *Pipeline) Wait(ctx context.Context, progress func(Stats)) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		st := p.Stats()
		if progress != nil {
			progress(st)
		}
		if st.Pending() <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-p.errs:
			return err
		case <-p.settled:
		case <-tick.C:
		}
	}
}

// Close stops pulling, lets in-flight work finish, drains the connection
// and shuts the server down.
func (p *Pipeline) Close() error {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
	var errs []error
	if p.nc != nil {
		if err := p.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, err)
		}
		for !p.nc.IsClosed() {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if p.jsonl != nil {
		errs = append(errs, p.jsonl.Close())
	}
	if p.cfg.OnClose != nil {
		p.cfg.OnClose()
	}
	p.shutdownServer()
	return errors.Join(errs...)
}

func (p *Pipeline) shutdownServer() {
	p.srv.Shutdown()
	p.srv.WaitForShutdown()
}

// Translator is what the pipeline needs of pipeline/mt.
type Translator = translate.Translator
