package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
	wnorm "github.com/dewire/dewire/workers/normalize"
	"github.com/dewire/dewire/workers/sink"
	"github.com/dewire/dewire/workers/stage"
	"github.com/dewire/dewire/workers/tm"
	"github.com/dewire/dewire/workers/translate"
)

type workerFlags struct {
	nats        natsFlags
	topo        topoFlags
	httpAddr    string
	concurrency int
	grace       time.Duration
	setup       bool
	// ingest
	feeds         feedFlags
	watch         bool
	watchInterval time.Duration
	source        string
	in            intakeFlags
	// normalize
	only string
	norm normFlags
	// translate
	eng        engineFlags
	pauseProbe time.Duration
	// sink
	out   string
	sinks sinkFlags
}

func newWorkerCmd(g *globalFlags) *cobra.Command {
	f := &workerFlags{}
	cmd := &cobra.Command{
		Use:   "worker <ingest|normalize|translate|sink> [flags] [FILE|DIR|-]...",
		Short: "Run one worker kind against a NATS server (for containers)",
		Long: `Worker runs one kind of worker against --nats-url. Every replica of a kind binds
the same durable consumer, so scaling is running more replicas.

  ingest     reads files, folders (with --watch, continuously) or stdin and publishes articles
  normalize  normalizes German before translation and English after it (--only de|en for one)
  translate  translates with --engine
  sink       writes clean records under --out (JSONL, TMX) and to PostgreSQL when configured

SIGTERM stops pulling, finishes in-flight messages within --grace, and exits 0.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWorker(cmd, g, f, args[0], args[1:])
		},
	}
	fs := cmd.Flags()
	f.nats.register(fs)
	f.topo.register(fs)
	fs.StringVar(&f.httpAddr, "http-addr", ":8080", "serve /metrics, /healthz and /readyz (ingest: also POST /articles) on this address (empty: off)")
	fs.IntVar(&f.concurrency, "concurrency", 8, "messages in flight per replica")
	fs.DurationVar(&f.grace, "grace", 25*time.Second, "how long in-flight messages may finish after SIGTERM")
	fs.BoolVar(&f.setup, "setup", false, "create or update the streams and consumers at start (needs admin rights; normally 'dewire setup' does it once)")
	fs.BoolVar(&f.watch, "watch", false, "ingest: keep watching the folders for new or changed files")
	fs.DurationVar(&f.watchInterval, "watch-interval", 2*time.Second, "ingest: how often --watch looks at the folders")
	fs.StringVar(&f.source, "source", "", "ingest: source name for every article (default: from the folder or file name)")
	f.feeds.register(fs)
	f.in.register(fs)
	fs.StringVar(&f.only, "only", "", "normalize: run only the de or the en consumer")
	f.norm.register(fs)
	f.eng.register(fs)
	fs.DurationVar(&f.pauseProbe, "pause-probe", 30*time.Second, "translate: first wait before retrying an engine that ran out of quota")
	fs.StringVar(&f.out, "out", "dewire-out", "sink: folder for JSONL and TMX per day")
	f.sinks.register(fs)
	envHelp(fs)
	return cmd
}

func runWorker(cmd *cobra.Command, g *globalFlags, f *workerFlags, kind string, args []string) error {
	switch kind {
	case "ingest", "normalize", "translate", "sink":
	default:
		return usagef("worker kind %q: want ingest, normalize, translate or sink", kind)
	}
	if kind == "ingest" && len(args) == 0 && f.httpAddr == "" && len(f.feeds.urls) == 0 {
		return usagef("worker ingest: name at least one file, folder or - for stdin, a --feed, or accept POST /articles on --http-addr")
	}
	if kind != "ingest" && len(args) > 0 {
		return usagef("worker %s takes no file arguments", kind)
	}
	log, err := newLogger(g)
	if err != nil {
		return err
	}
	log = log.With(zap.String("worker", kind))
	defer log.Sync()
	topo, err := f.topo.topology()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if f.nats.inboxPrefix == "" {
		f.nats.inboxPrefix = "_INBOX." + kind
	}
	nc, js, err := f.nats.connect(ctx, "dewire-"+kind, log)
	if err != nil {
		return err
	}
	defer nc.Drain()
	if f.setup {
		if err := topo.Ensure(ctx, js); err != nil {
			return fmt.Errorf("topology: %w (run `dewire setup` with an admin account, then start workers with --setup=false)", err)
		}
	}
	probes := newProbes()
	if kind == "ingest" {
		return runIngestWorker(ctx, f, js, args, log, probes, func() error {
			if nc.Status() != nats.CONNECTED {
				return fmt.Errorf("nats %s", nc.Status())
			}
			return nil
		})
	}
	if err := probes.serve(ctx, f.httpAddr, log); err != nil {
		return err
	}
	met := stage.NewMetrics(probes.reg)
	base := stage.Config{Concurrency: f.concurrency, Grace: f.grace, Log: log, Metrics: met}
	ready := func() error {
		if nc.Status() != nats.CONNECTED {
			return fmt.Errorf("nats %s", nc.Status())
		}
		return nil
	}

	var runs []func(context.Context) error
	var consumers []string
	switch kind {
	case "normalize":
		de, en, err := f.norm.normalizers()
		if err != nil {
			return err
		}
		if f.only != "en" {
			runs = append(runs, stageRun(js, wnorm.Config(de, base), wnorm.Handler(de)))
			consumers = append(consumers, bus.ConsumerNormalizeDE)
		}
		if f.only != "de" {
			runs = append(runs, stageRun(js, wnorm.Config(en, base), wnorm.Handler(en)))
			consumers = append(consumers, bus.ConsumerNormalizeEN)
		}
		if f.only != "" && f.only != "de" && f.only != "en" {
			return usagef("--only %q: want de or en", f.only)
		}
	case "translate":
		memory, err := tm.NewKV(ctx, js, bus.BucketMemory)
		if err != nil {
			return err
		}
		tr, err := f.eng.translator(ctx, memory, log)
		if err != nil {
			return err
		}
		runs = append(runs, stageRun(js, translate.Config(base), translate.Handler(tr, f.pauseProbe)))
		consumers = append(consumers, bus.ConsumerTranslate)
	case "sink":
		jsonl, err := sink.OpenJSONL(f.out)
		if err != nil {
			return err
		}
		defer jsonl.Close()
		extras, closeExtras, err := f.sinks.writers(ctx, f.out, log)
		if err != nil {
			return err
		}
		defer closeExtras()
		s := &sink.Sink{JSONL: jsonl, Extras: extras}
		runs = append(runs, stageRun(js, sink.Config(base), s.Handler()))
		consumers = append(consumers, bus.ConsumerSink)
	}
	// Every worker also moves its own consumers' exhausted messages to the DLQ.
	for _, c := range consumers {
		runs = append(runs, func(ctx context.Context) error { return stage.MoveDeadLetters(ctx, js, c, log, met, nil) })
	}
	probes.setReady(ready)
	return runAll(ctx, runs)
}

func stageRun(js jetstream.JetStream, cfg stage.Config, h stage.Handler) func(context.Context) error {
	return func(ctx context.Context) error { return stage.Run(ctx, js, cfg, h) }
}

// runAll runs every function until ctx ends or one fails; a failure stops the others.
func runAll(parent context.Context, runs []func(context.Context) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(runs))
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r(ctx); err != nil {
				errs[i] = err
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func runIngestWorker(ctx context.Context, f *workerFlags, js jetstream.JetStream, args []string, log *zap.Logger, probes *probes, ready func() error) error {
	reader, err := f.in.reader()
	if err != nil {
		return err
	}
	revs, err := ingest.NewKVRevisions(ctx, js, bus.BucketRevisions)
	if err != nil {
		return err
	}
	pub := &ingest.Publisher{JS: js, Revisions: revs}
	var mu sync.Mutex
	var counts struct{ published, duplicates, rejected int }
	emit := func(ctx context.Context, it intake.Item) error {
		out, err := pub.Emit(ctx, it)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		switch out {
		case ingest.Rejected:
			counts.rejected++
			log.Info("rejected", zap.String("id", it.Reject.ID), zap.String("code", it.Reject.Reject.Code), zap.String("reason", it.Reject.Reject.Reason))
		case ingest.Duplicate:
			counts.duplicates++
		default:
			counts.published++
			log.Info("published", zap.String("id", it.Article.ID), zap.Int("rev", it.Article.Rev))
		}
		return nil
	}
	src := &ingest.Source{Reader: reader, Name: f.source, Emit: emit,
		OnError: func(path string, err error) { log.Error("input unreadable", zap.String("path", path), zap.Error(err)) },
	}
	probes.handle("/articles", ingest.HTTPHandler(reader, pub.Emit, int64(f.in.maxBytes)*16))
	if err := probes.serve(ctx, f.httpAddr, log); err != nil {
		return err
	}
	probes.setReady(ready)
	var feedErr error
	feedsDone := make(chan struct{})
	if feeds := f.feeds.poller(reader, f.source, emit, log); feeds != nil {
		go func() {
			defer close(feedsDone)
			feedErr = feeds.Run(ctx)
		}()
	} else {
		close(feedsDone)
	}
	switch {
	case f.watch:
		err = src.Watch(ctx, args, f.watchInterval)
	case len(args) > 0:
		err = src.Paths(ctx, args)
	}
	if f.watch || len(args) == 0 || len(f.feeds.urls) > 0 {
		// Feeds and POST /articles keep the worker running until SIGTERM.
		log.Info("ingesting until stopped", zap.String("http", f.httpAddr), zap.Strings("feeds", f.feeds.urls))
		<-ctx.Done()
	}
	<-feedsDone
	err = errors.Join(err, feedErr)
	log.Info("ingest finished", zap.Int("published", counts.published), zap.Int("duplicates", counts.duplicates), zap.Int("rejected", counts.rejected))
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
