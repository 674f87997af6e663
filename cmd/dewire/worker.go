package main

import (
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dewire/dewire/pipeline/mt/engines"
	pnorm "github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/ingest"
	wnorm "github.com/dewire/dewire/workers/normalize"
	"github.com/dewire/dewire/workers/translate"
	"github.com/dewire/dewire/workers/worker"
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
	case worker.Ingest, worker.Normalize, worker.Translate, worker.Sink:
	default:
		return usagef("worker kind %q: want ingest, normalize, translate or sink", kind)
	}
	if kind == worker.Ingest && len(args) == 0 && f.httpAddr == "" && len(f.feeds.urls) == 0 {
		return usagef("worker ingest: name at least one file, folder or - for stdin, a --feed, or accept POST /articles on --http-addr")
	}
	if kind != worker.Ingest && len(args) > 0 {
		return usagef("worker %s takes no file arguments", kind)
	}
	if f.only != "" && f.only != "de" && f.only != "en" {
		return usagef("--only %q: want de or en", f.only)
	}
	log, err := newLogger(g)
	if err != nil {
		return err
	}
	defer log.Sync()
	topo, err := f.topo.topology()
	if err != nil {
		return err
	}
	if f.nats.inboxPrefix == "" {
		f.nats.inboxPrefix = "_INBOX." + kind
	}
	conn, err := f.nats.conn("dewire-" + kind)
	if err != nil {
		return err
	}
	cfg := worker.Config{
		Kind: kind, Conn: conn, Topology: topo, Setup: f.setup, HTTPAddr: f.httpAddr,
		Concurrency: f.concurrency, Grace: f.grace, Log: log,
	}
	switch kind {
	case worker.Ingest:
		reader, err := f.in.reader()
		if err != nil {
			return err
		}
		o := ingest.Options{
			Reader: reader, Source: f.source, Paths: args, Stdin: cmd.InOrStdin(),
			Feeds: f.feeds.urls, FeedInterval: f.feeds.interval,
			// Feeds and POST /articles keep the worker running until SIGTERM.
			Serve: f.watch || len(args) == 0 || len(f.feeds.urls) > 0,
		}
		if f.watch {
			o.Watch = f.watchInterval
		}
		cfg.Ingest = o
	case worker.Normalize:
		de, en, err := f.norm.normalizers()
		if err != nil {
			return err
		}
		if f.only == "en" {
			de = nil
		}
		if f.only == "de" {
			en = nil
		}
		cfg.Normalize = wnorm.Options{DE: de, EN: en, DeskNames: &pnorm.DeskNames{}}
	case worker.Translate:
		cfg.Translate = translate.Options{EngineConfig: f.eng.config(), PauseProbe: f.pauseProbe}
	case worker.Sink:
		if cfg.Sink, err = f.sinks.options(f.out); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return startupError(worker.Run(ctx, cfg))
}

// startupError makes configuration mistakes found at start usage errors (exit 2).
func startupError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, worker.ErrListen), errors.Is(err, engines.ErrNotConfigured), errors.Is(err, engines.ErrUnknownEngine):
		return &usageError{err}
	}
	return err
}
