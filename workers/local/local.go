package local

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	// Auth and TLS are what the embedded server asks of clients on Listen
	// (Auth of the in-process connections too).
	Auth bus.ServerAuth
	TLS  bus.ServerTLS

	Reader *intake.Reader
	NormDE *pnorm.Normalizer
	NormEN *pnorm.Normalizer
	// DeskNames, when set, follow the desk's names bucket (see workers/normalize).
	DeskNames *pnorm.DeskNames
	// Translate configures the translate worker (engine, memory, pause probe).
	Translate translate.Options
	// Translator, when set, replaces Translate's engine and memory (tests).
	Translator Translator
	// NewTranslator, used when Translator is nil and set, builds the
	// translator once the server runs (tests).
	NewTranslator func(ctx context.Context, js jetstream.JetStream) (Translator, error)
	// Sink configures the sink worker; OutDir is its folder.
	Sink    sink.Options
	Extras  []sink.Writer // further sink writers (tests)
	OnClose func()        // called by Close once the stages have stopped
	// Concurrency per stage (default 32; the sink uses twice that so its
	// group commit gathers many records per fsync).
	Concurrency int
	Topology    *bus.Topology // default bus.DefaultTopology()
	// Grace bounds how long in-flight work may finish after Close (default
	// 25 s; stage.NoGrace abandons it at once, to be redelivered).
	Grace      time.Duration
	PauseProbe time.Duration
	Log        *zap.Logger
	Registry   prometheus.Registerer
	// Health and Mux, when set, get the readiness checks and POST /articles.
	Health *stage.Health
	Mux    *http.ServeMux
	// Feeds are RSS or Atom URLs for IngestFeeds.
	Feeds        []string
	FeedInterval time.Duration
	// WatchSettle is how long a watched file must stay unchanged before it
	// is read (default 2 s).
	WatchSettle time.Duration
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
	BilledChars  int // characters the engine billed for the clean records
	MemoryHits   int // segments of the clean records taken from the translation memory
}

// Pending is how many published or replayed articles have not reached the sink or the DLQ.
func (s Stats) Pending() int { return s.Published + s.Replayed - s.Clean - s.DeadLettered }

// Pipeline is a running local pipeline: the embedded server, and every
// worker kind's entry point (the same ones `dewire worker` runs) in this process.
type Pipeline struct {
	cfg       Config
	srv       *server.Server
	nc        *nats.Conn
	js        jetstream.JetStream
	sink      *sink.Sink
	closeSink func() error
	ing       *ingest.Ingester
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	errs      chan error

	mu       sync.Mutex
	stats    Stats
	expected map[string]bool // id@rev published this run and not yet settled
	done     map[string]bool // id@rev settled in this run
	deadLast map[string]bool // id@rev in the DLQ when the run started
	given    map[string]bool // id@rev whose publish was given up (Ctrl-C); the server may still have it
	settled  chan struct{}   // signalled whenever an article settles
}

// Start starts the server, creates the topology and runs every worker kind.
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
	if cfg.NormDE == nil || cfg.NormEN == nil {
		return nil, errors.New("local: normalizers are required")
	}
	topo := bus.DefaultTopology()
	if cfg.Topology != nil {
		topo = *cfg.Topology
	}
	srv, err := bus.Embedded{StoreDir: filepath.Join(cfg.DataDir, "jetstream"), Listen: cfg.Listen, Durable: cfg.Durable,
		Auth: cfg.Auth, TLS: cfg.TLS, Log: cfg.Log}.Start()
	if err != nil {
		return nil, err
	}
	p := &Pipeline{cfg: cfg, srv: srv, expected: map[string]bool{}, done: map[string]bool{}, deadLast: map[string]bool{},
		given: map[string]bool{}, settled: make(chan struct{}, 1), errs: make(chan error, 8)}
	if err := p.connect(ctx, topo); err != nil {
		p.shutdownServer()
		return nil, err
	}
	if err := p.start(ctx); err != nil {
		_ = p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Pipeline) connect(ctx context.Context, topo bus.Topology) error {
	nc, err := bus.Connect(ctx, p.cfg.Auth.InProcess("dewire-run", p.srv), p.cfg.Log)
	if err != nil {
		return err
	}
	js, err := bus.JetStream(nc)
	if err != nil {
		nc.Close()
		return err
	}
	if err := topo.Ensure(ctx, js); err != nil {
		nc.Close()
		return fmt.Errorf("topology: %w", err)
	}
	p.nc, p.js = nc, js
	return nil
}

func (p *Pipeline) start(parent context.Context) error {
	cfg := p.cfg
	env := stage.Env{
		JS: p.js, Log: cfg.Log, Metrics: stage.NewMetrics(cfg.Registry), Registry: cfg.Registry,
		Concurrency: cfg.Concurrency, Grace: cfg.Grace, Health: cfg.Health, OnDeadLetter: p.deadLettered,
	}
	so := cfg.Sink
	so.Out = cfg.OutDir
	so.Extras = append(append([]sink.Writer(nil), so.Extras...), cfg.Extras...)
	so.OnWritten = p.written
	snk, closeSink, err := sink.Open(parent, so, cfg.Log)
	if err != nil {
		return err
	}
	p.sink, p.closeSink = snk, closeSink
	if err := p.loadDeadLetters(parent); err != nil {
		return err
	}
	to := cfg.Translate
	switch {
	case cfg.Translator != nil:
		to.Translator = cfg.Translator
	case cfg.NewTranslator != nil:
		tr, err := cfg.NewTranslator(parent, p.js)
		if err != nil {
			return err
		}
		to.Translator = tr
	}
	if to.Translator == nil && to.Engine == nil {
		// Opened here, not in the worker's goroutine, so a bad engine
		// configuration stops the run before anything is read.
		eng, err := translate.OpenEngine(parent, to.EngineConfig, cfg.Log)
		if err != nil {
			return err
		}
		to.Engine = eng
	}
	if cfg.PauseProbe > 0 {
		to.PauseProbe = cfg.PauseProbe
	}
	ing, err := ingest.New(parent, env, ingest.Options{
		Reader: cfg.Reader, Feeds: cfg.Feeds, FeedInterval: cfg.FeedInterval, Settle: cfg.WatchSettle,
		Seed: snk.JSONL.Latest,
		Events: ingest.Events{
			Read: p.read, Assigned: p.assigned, Outcome: p.outcome, Failed: p.failed, Unreadable: p.unreadable,
		},
	})
	if err != nil {
		return err
	}
	p.ing = ing
	if cfg.Mux != nil {
		cfg.Mux.Handle("/articles", ing.HTTPHandler())
	}

	ctx, cancel := context.WithCancel(parent)
	p.cancel = cancel
	runs := map[string]func(context.Context) error{
		"normalize": func(ctx context.Context) error {
			return wnorm.Run(ctx, env, wnorm.Options{DE: cfg.NormDE, EN: cfg.NormEN, DeskNames: cfg.DeskNames})
		},
		"translate": func(ctx context.Context) error { return translate.Run(ctx, env, to) },
		"sink":      func(ctx context.Context) error { return snk.Run(ctx, env, 2*cfg.Concurrency) },
	}
	for name, run := range runs {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			if err := run(ctx); err != nil {
				p.errs <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	return nil
}

// loadDeadLetters remembers which articles sit in the DLQ, so one that an
// interrupted earlier run dead-lettered is not waited for again.
func (p *Pipeline) loadDeadLetters(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := p.js.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		return fmt.Errorf("dlq: %w", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("dlq: %w", err)
	}
	if info.State.Msgs == 0 {
		return nil
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{HeadersOnly: true})
	if err != nil {
		return fmt.Errorf("dlq: %w", err)
	}
	for remaining := info.State.Msgs; remaining > 0; {
		batch, err := cons.Fetch(int(min(remaining, 256)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return fmt.Errorf("dlq: %w", err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			if id, rev := m.Headers().Get(bus.HeaderID), m.Headers().Get(bus.HeaderRev); id != "" {
				p.deadLast[id+"@"+rev] = true
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("dlq: %w", err)
		}
		if n == 0 {
			break
		}
		remaining -= uint64(n)
	}
	return nil
}

// JetStream is the pipeline's JetStream context (for tests and desk feeds).
func (p *Pipeline) JetStream() jetstream.JetStream { return p.js }

// Server is the embedded server.
func (p *Pipeline) Server() *server.Server { return p.srv }

// Reader is the intake reader in use, its limits fitted to the server.
func (p *Pipeline) Reader() *intake.Reader { return p.ing.Reader() }

// IngestOptions tune Ingest.
type IngestOptions struct {
	Source string        // source name for every item (default: from the folder or file)
	Watch  time.Duration // > 0: keep polling folders at this interval until ctx ends
	Stdin  interface{ Read([]byte) (int, error) }
}

// Ingest reads the paths (files, folders, "-") into the pipeline through
// the ingest worker's parallel publishers, and returns when every item is
// published.
func (p *Pipeline) Ingest(ctx context.Context, paths []string, opts IngestOptions) error {
	err := p.ing.Read(ctx, ingest.Input{Paths: paths, Source: opts.Source, Stdin: opts.Stdin, Watch: opts.Watch})
	p.ing.Flush()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// IngestFeeds polls the configured feeds once, or until ctx ends, and
// returns when every item is published.
func (p *Pipeline) IngestFeeds(ctx context.Context, once bool) error {
	err := p.ing.PollFeeds(ctx, once)
	p.ing.Flush()
	return err
}

// Emit sends one intake item into the pipeline (retrying a failed publish
// until ctx ends) and waits until it is published.
func (p *Pipeline) Emit(ctx context.Context, it intake.Item) error {
	if err := p.ing.Submit(ctx, it); err != nil {
		return err
	}
	p.ing.Flush()
	return nil
}

// Publish is one publishing attempt that says what became of the item.
func (p *Pipeline) Publish(ctx context.Context, it intake.Item) (ingest.Outcome, error) {
	return p.ing.Publish(ctx, it)
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
		delete(p.deadLast, key)
		delete(p.done, key)
		if !p.expected[key] {
			p.expected[key] = true
			p.stats.Replayed++
		}
	}
	return got, err
}

func (p *Pipeline) read(intake.Item) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Read++
}

func (p *Pipeline) unreadable(string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Unreadable++
}

// assigned registers an article about to be published, so it is waited
// for. A retried publish registers it once.
func (p *Pipeline) assigned(a *article.Article) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := a.Key()
	if p.expected[key] || p.done[key] {
		return
	}
	p.expected[key] = true
	p.stats.Published++
}

func (p *Pipeline) outcome(it intake.Item, out ingest.Outcome) {
	switch out {
	case ingest.Duplicate:
		p.mu.Lock()
		p.stats.Duplicates++
		p.mu.Unlock()
	case ingest.Rejected:
		p.mu.Lock()
		p.stats.Rejected++
		p.mu.Unlock()
	case ingest.Published, ingest.Republished:
		// A revision an interrupted earlier run published but never
		// confirmed is sent again; it may have reached the sink or the DLQ
		// long ago, and its re-publish downstream is then dropped as a
		// duplicate, so it would never be seen again.
		a := it.Article
		switch {
		case p.sink.JSONL.Has(a.ID, a.Rev):
			p.settle(a.Key(), func(s *Stats) { s.Clean++ })
		case p.wasDead(a.Key()):
			p.settle(a.Key(), func(s *Stats) { s.DeadLettered++ })
		}
	}
}

func (p *Pipeline) wasDead(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.deadLast[key]
}

// failed forgets an article whose publishing was given up (Ctrl-C).
func (p *Pipeline) failed(it intake.Item, _ error) {
	if it.Article == nil || it.Article.Rev == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if key := it.Article.Key(); p.expected[key] {
		delete(p.expected, key)
		p.given[key] = true
		p.stats.Published--
	}
}

func (p *Pipeline) written(a *article.Article, _ bool) {
	p.settle(a.Key(), func(s *Stats) {
		s.Clean++
		if e := a.Engine; e != nil {
			s.BilledChars += e.BilledChars
			s.MemoryHits += e.FromMemory
		}
	})
}

func (p *Pipeline) deadLettered(m stage.Msg, _ string) {
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
	switch {
	case p.expected[key]:
		delete(p.expected, key)
		p.done[key] = true
		count(&p.stats)
	case p.given[key]:
		// A publish given up on had reached the server after all.
		delete(p.given, key)
		p.done[key] = true
		p.stats.Published++
		count(&p.stats)
	}
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
	if p.ing != nil {
		p.ing.Close()
	}
	var errs []error
	if p.nc != nil {
		if err := p.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, err)
		}
		for !p.nc.IsClosed() {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if p.closeSink != nil {
		errs = append(errs, p.closeSink())
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
