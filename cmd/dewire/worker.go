package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dewire/dewire/pipeline/mt/engines"
	pnorm "github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
	wnorm "github.com/dewire/dewire/workers/normalize"
	"github.com/dewire/dewire/workers/translate"
	"github.com/dewire/dewire/workers/worker"
)

type workerFlags struct {
	nats        natsFlags
	topo        topoFlags
	httpAddr    string
	doors       httpDoorFlags
	concurrency int
	grace       time.Duration
	setup       bool
	// ingest
	feeds         feedFlags
	watch         bool
	watchInterval time.Duration
	watchSettle   time.Duration
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

// workerKinds are the subcommands of `dewire worker`, in help order.
var workerKinds = []string{worker.Ingest, worker.Normalize, worker.Translate, worker.Sink}

func newWorkerCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker <ingest|normalize|translate|sink> [flags]",
		Short: "Run one worker kind against a NATS server (for containers)",
		Long: `Worker runs one kind of worker against --nats-url. Every replica of a kind binds
the same durable consumer, so scaling is running more replicas.
'dewire worker KIND --help' lists the flags of that kind.

SIGTERM stops pulling, finishes in-flight messages within --grace, and exits 0.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("worker kind %q: want %s", args[0], orList(workerKinds))
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "; did you mean " + quoteOr(s) + "?"
			}
			return errors.New(msg)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("worker: name a kind: %s", orList(workerKinds))
		},
	}
	cmd.AddCommand(
		newWorkerKindCmd(g, worker.Ingest, "[flags] [FILE|DIR|-]...",
			"Read files, folders (with --watch, continuously), stdin, feeds or POST /articles and publish articles"),
		newWorkerKindCmd(g, worker.Normalize, "[flags]",
			"Normalize German before translation and English after it (--only de|en for one)"),
		newWorkerKindCmd(g, worker.Translate, "[flags]", "Translate with --engine"),
		newWorkerKindCmd(g, worker.Sink, "[flags]",
			"Write clean records under --out (JSONL, TMX) and to PostgreSQL when configured"),
	)
	return cmd
}

// newWorkerKindCmd is `dewire worker KIND`, with the shared flags and only
// that kind's own.
func newWorkerKindCmd(g *globalFlags, kind, args, short string) *cobra.Command {
	f := &workerFlags{}
	cmd := &cobra.Command{
		Use:   kind + " " + args,
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWorker(cmd, g, f, kind, args)
		},
	}
	if kind != worker.Ingest {
		cmd.Args = cobra.NoArgs
	}
	fs := cmd.Flags()
	f.nats.register(fs)
	f.topo.register(fs)
	fs.StringVar(&f.httpAddr, "http-addr", ":8080", "serve /metrics, /healthz and /readyz on this address, all interfaces by default as containers need (empty: off)")
	f.doors.register(fs)
	fs.IntVar(&f.concurrency, "concurrency", 8, "messages in flight per replica")
	fs.DurationVar(&f.grace, "grace", 25*time.Second, "how long in-flight messages may finish after SIGTERM")
	fs.BoolVar(&f.setup, "setup", false, "create or update the streams and consumers at start (needs admin rights; normally 'dewire setup' does it once)")
	switch kind {
	case worker.Ingest:
		fs.Lookup("http-addr").Usage = "serve /metrics, /healthz, /readyz and POST /articles on this address, all interfaces by default as containers need (empty: off)"
		fs.BoolVar(&f.watch, "watch", false, "keep watching the folders for new or changed files")
		fs.DurationVar(&f.watchInterval, "watch-interval", 2*time.Second, "how often --watch looks at the folders")
		fs.DurationVar(&f.watchSettle, "watch-settle", 0, "how long a watched file must stay unchanged before it is read (0: one --watch-interval, or at once when last modified over 2s ago; raise it for slow writers or network folders)")
		fs.StringVar(&f.source, "source", "", "source name for every article (default: from the folder or file name)")
		f.feeds.register(fs)
		f.in.register(fs)
	}
	if kind != worker.Ingest {
		// POST /articles is ingest's alone; kept (hidden) so a shared
		// environment that sets them for every kind still starts.
		for _, name := range []string{"http-auth", "http-token-file", "http-user", "http-password-file", "http-body-timeout"} {
			_ = fs.MarkHidden(name)
		}
	}
	switch kind {
	case worker.Normalize:
		fs.StringVar(&f.only, "only", "", "run only the de or the en consumer")
		f.norm.register(fs)
	case worker.Translate:
		f.eng.register(fs)
		fs.DurationVar(&f.pauseProbe, "pause-probe", 30*time.Second, "first wait before retrying an engine that ran out of quota")
	case worker.Sink:
		fs.StringVar(&f.out, "out", "dewire-out", "folder for JSONL and TMX per day")
		f.sinks.register(fs)
	}
	envHelp(fs)
	return cmd
}

// validate checks every flag of the kind before anything starts.
func (f *workerFlags) validate(kind string) error {
	errs := []error{
		checkAtLeast("--concurrency", f.concurrency, 1),
		checkDuration("--grace", f.grace, true),
		checkAddr("--http-addr", f.httpAddr, false),
		checkAddr("--metrics-addr", f.doors.metricsAddr, false),
		f.topo.validate(),
	}
	switch kind {
	case worker.Ingest:
		errs = append(errs, checkDuration("--watch-interval", f.watchInterval, false), checkDuration("--watch-settle", f.watchSettle, true), f.feeds.validate(), f.in.validate())
	case worker.Normalize:
		if f.only != "" {
			errs = append(errs, checkEnum("--only", f.only, "de", "en"))
		}
	case worker.Translate:
		errs = append(errs, f.eng.validate(), checkDuration("--pause-probe", f.pauseProbe, false))
	}
	return firstErr(errs...)
}

func runWorker(cmd *cobra.Command, g *globalFlags, f *workerFlags, kind string, args []string) error {
	if err := f.validate(kind); err != nil {
		return err
	}
	if kind == worker.Ingest && len(args) == 0 && f.httpAddr == "" && len(f.feeds.urls) == 0 {
		return usagef("worker ingest: name at least one file, folder or - for stdin, a --feed, or accept POST /articles on --http-addr")
	}
	if kind != worker.Ingest && len(args) > 0 {
		return usagef("worker %s takes no file arguments", kind)
	}
	if err := firstErr(checkInputs(args), f.nats.files(), f.doors.files(),
		checkFiles("--model", f.eng.model, "--style", f.norm.style, "--postgres-dsn-file", f.sinks.dsnFile)); err != nil {
		return err
	}
	log, err := newLoggerTo(g, cmd.ErrOrStderr())
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
	httpOpts, err := f.doors.options(f.httpAddr, kind == worker.Ingest, kind == worker.Ingest && len(args) == 0 && len(f.feeds.urls) == 0, log)
	if err != nil {
		return err
	}
	cfg := worker.Config{
		Kind: kind, Conn: conn, Topology: topo, Setup: f.setup, HTTPAddr: f.httpAddr, HTTP: httpOpts,
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
			o.Watch, o.Settle = f.watchInterval, f.watchSettle
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
	case errors.Is(err, worker.ErrListen), errors.Is(err, worker.ErrHTTPConfig), errors.Is(err, bus.ErrEmbeddedConfig),
		errors.Is(err, engines.ErrNotConfigured), errors.Is(err, engines.ErrUnknownEngine):
		return &usageError{err}
	}
	return err
}
