package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/pipeline/modelstore"
	pnorm "github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/local"
	"github.com/dewire/dewire/workers/stage"
	"github.com/dewire/dewire/workers/translate"
	"github.com/dewire/dewire/workers/worker"
)

type runFlags struct {
	data, out, listen, httpAddr, source string
	durable                             bool
	watch                               bool
	watchInterval                       time.Duration
	watchSettle                         time.Duration
	concurrency                         int
	progress                            string
	progressInterval                    time.Duration
	pullModel                           bool
	modelIndexURL                       string
	norm                                normFlags
	in                                  intakeFlags
	eng                                 engineFlags
	sinks                               sinkFlags
	topo                                topoFlags
	feeds                               feedFlags
	doors                               httpDoorFlags
	listenDoors                         listenFlags
	desk                                deskFlags
}

func newRunCmd(g *globalFlags) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run [flags] [FILE|DIR|-]...",
		Short: "Run the whole pipeline in one process on an embedded NATS server",
		Long: `Run reads articles from files, folders (recursively) or stdin (-), sends them
through every stage on an embedded NATS JetStream server whose store lives
under --data, and writes clean records under --out. It exits when every input
has reached the sink, the rejects or the dead-letter queue, and prints a
summary; with --watch it keeps reading the folders until interrupted.
Ctrl-C stops reading, lets in-flight articles finish, and exits.

On a terminal it draws a progress bar (plain lines on stderr otherwise) and
logs warnings and errors only unless --log-level says otherwise. With
--engine auto and no engine found, it offers on a terminal to download the
default de-en model (--pull-model: without asking); elsewhere it runs
untranslated and says how to turn translation on.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && len(f.feeds.urls) == 0 {
				return usagef("run: name at least one file, folder or - for stdin, or a --feed")
			}
			return runPipeline(cmd, g, f, args)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.data, "data", "dewire-data", "folder for the embedded JetStream store")
	fs.StringVar(&f.out, "out", "dewire-out", "folder for the sink (JSONL and TMX per day)")
	fs.StringVar(&f.listen, "listen", "", "also accept NATS clients (desks, workers) on host:port (a port alone binds loopback; see --listen-user, --listen-token-file, --listen-tls-cert)")
	fs.BoolVar(&f.durable, "durable", false, "fsync every JetStream write (sync_interval: always)")
	fs.BoolVar(&f.watch, "watch", false, "keep watching the folders for new or changed files")
	fs.DurationVar(&f.watchInterval, "watch-interval", 2*time.Second, "how often --watch looks at the folders")
	fs.DurationVar(&f.watchSettle, "watch-settle", 0, "how long a watched file must stay unchanged before it is read (0: one --watch-interval, or at once when last modified over 2s ago; raise it for slow writers or network folders)")
	fs.StringVar(&f.source, "source", "", "source name for every article (default: from the folder or file name)")
	fs.StringVar(&f.httpAddr, "http-addr", "", "serve the desk (pages, /feed.atom, /api/articles), /metrics, /healthz, /readyz and POST /articles on this address (a port alone binds loopback)")
	fs.IntVar(&f.concurrency, "concurrency", 32, "articles in flight per stage")
	fs.StringVar(&f.progress, "progress", "auto", "progress display: auto (a bar on a terminal, plain lines on stderr otherwise), bar, plain, none")
	fs.DurationVar(&f.progressInterval, "progress-interval", 5*time.Second, "how often --progress plain prints a line")
	fs.BoolVar(&f.pullModel, "pull-model", false, "with --engine auto and no engine found: download the default de-en model without asking")
	fs.StringVar(&f.modelIndexURL, "model-index-url", modelstore.DefaultIndexURL, "Argos package index the first-run model download uses")
	f.feeds.register(fs)
	f.norm.register(fs)
	f.in.register(fs)
	f.eng.register(fs)
	f.sinks.register(fs)
	f.topo.register(fs)
	f.doors.register(fs)
	f.listenDoors.register(fs)
	f.desk.register(fs)
	envHelp(fs)
	return cmd
}

// validate checks every flag before anything starts.
func (f *runFlags) validate() error {
	return firstErr(
		checkEnum("--progress", f.progress, progressModes...),
		checkDuration("--progress-interval", f.progressInterval, false),
		checkAtLeast("--concurrency", f.concurrency, 1),
		checkDuration("--watch-interval", f.watchInterval, false),
		checkDuration("--watch-settle", f.watchSettle, true),
		checkAddr("--listen", f.listen, true),
		checkAddr("--http-addr", f.httpAddr, false),
		checkAddr("--metrics-addr", f.doors.metricsAddr, false),
		checkDuration("--http-body-timeout", f.doors.bodyTimeout, false),
		checkURLs("--model-index-url", []string{f.modelIndexURL}),
		f.in.validate(),
		f.eng.validate(),
		f.feeds.validate(),
		f.topo.validate(),
	)
}

func runPipeline(cmd *cobra.Command, g *globalFlags, f *runFlags, args []string) error {
	if err := f.validate(); err != nil {
		return err
	}
	if err := firstErr(checkInputs(args), checkFiles("--model", f.eng.model, "--style", f.norm.style, "--postgres-dsn-file", f.sinks.dsnFile),
		f.doors.files(), f.listenDoors.files()); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stderr := cmd.ErrOrStderr()
	logw := newSwitchWriter(stderr)
	log, err := newLoggerTo(g, logw)
	if err != nil {
		return err
	}
	defer log.Sync()
	if err := firstRunModel(ctx, cmd, f, log); err != nil {
		return err
	}
	reader, err := f.in.reader()
	if err != nil {
		return err
	}
	probes := worker.NewProbes()
	p, err := startLocal(ctx, f, reader, log, probes)
	if err != nil {
		return err
	}
	closed := false
	closePipeline := func() {
		if closed {
			return
		}
		closed = true
		if err := p.Close(); err != nil {
			log.Warn("shutdown", zap.Error(err))
		}
	}
	defer closePipeline()
	if f.httpAddr != "" {
		if err := f.desk.start(ctx, p.JetStream(), probes.Mux, log); err != nil {
			return err
		}
	}
	if err := serveRunHTTP(ctx, f, probes, log); err != nil {
		return err
	}

	start := time.Now()
	show := newRunProgress(stderr, f.progress, f.progressInterval, logw, p.Stats)
	show.begin()
	stdin := cmd.InOrStdin()
	ingestErr := make(chan error, 1)
	go func() {
		ingestErr <- ingestAll(ctx, p, f, args, stdin)
	}()
	runErr := <-ingestErr
	if ctx.Err() == nil {
		show.inputsRead()
	}
	if ctx.Err() == nil && (runErr == nil || onlyFeedsFailed(runErr)) {
		// Feeds that failed still let the others' articles reach the sink.
		runErr = errors.Join(runErr, p.Wait(ctx, nil))
	}
	interrupted := ctx.Err() != nil
	show.end(interrupted)
	// Closing lets in-flight articles finish, so the counts taken after it
	// match the records on disk.
	closePipeline()
	st := p.Stats()
	out := cmd.OutOrStdout()
	if interrupted {
		fmt.Fprintf(stderr, "interrupted: %d articles still in the pipeline and %d read but not yet published; they resume on the next run with --data %s\n",
			st.Pending(), notPublished(st), f.data)
	}
	fmt.Fprintln(out, summary(st, time.Since(start), f.out))
	if interrupted {
		return nil
	}
	if runErr == nil && st.Unreadable > 0 {
		runErr = fmt.Errorf("%d input(s) could not be read (see the log)", st.Unreadable)
	}
	return runErr
}

// notPublished is how many items read were neither published nor settled
// at ingest (a duplicate or a rejection): those Ctrl-C caught on the way in.
func notPublished(st local.Stats) int {
	return max(st.Read-st.Published-st.Duplicates-st.Rejected, 0)
}

// serveRunHTTP serves --http-addr (loopback unless a host is given) with
// the HTTP door flags.
func serveRunHTTP(ctx context.Context, f *runFlags, probes *worker.Probes, log *zap.Logger) error {
	addr := loopbackDefault(f.httpAddr)
	f.doors.metricsAddr = loopbackDefault(f.doors.metricsAddr)
	o, err := f.doors.options(addr, true, false, log)
	if err != nil {
		return err
	}
	return startupError(probes.ServeWith(ctx, addr, o, log))
}

// startLocal starts the in-process pipeline the run flags describe.
func startLocal(ctx context.Context, f *runFlags, reader *intake.Reader, log *zap.Logger, probes *worker.Probes) (*local.Pipeline, error) {
	topo, err := f.topo.topology()
	if err != nil {
		return nil, err
	}
	de, en, err := f.norm.normalizers()
	if err != nil {
		return nil, err
	}
	so, err := f.sinks.options(f.out)
	if err != nil {
		return nil, err
	}
	auth, tls, err := f.listenDoors.access()
	if err != nil {
		return nil, err
	}
	p, err := local.Start(ctx, local.Config{
		DataDir: f.data, OutDir: f.out, Listen: f.listen, Durable: f.durable, Auth: auth, TLS: tls,
		Reader: reader, NormDE: de, NormEN: en, Sink: so, DeskNames: &pnorm.DeskNames{},
		Translate: translate.Options{EngineConfig: f.eng.config()},
		Feeds:     f.feeds.urls, FeedInterval: f.feeds.interval, WatchSettle: f.watchSettle,
		Concurrency: f.concurrency, Topology: &topo, Log: log,
		Registry: probes.Registry, Health: probes.Health, Mux: probes.Mux,
	})
	if err != nil {
		return nil, startupError(err)
	}
	return p, nil
}

// replayLocal replays dead letters of a 'dewire run' store and processes them.
func replayLocal(cmd *cobra.Command, g *globalFlags, f *runFlags, filter stage.ReplayFilter) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log, err := newLogger(g)
	if err != nil {
		return err
	}
	f.topo.register(pflag.NewFlagSet("replay", pflag.ContinueOnError)) // registering sets the default topology
	p, err := startLocal(ctx, f, &intake.Reader{}, log, worker.NewProbes())
	if err != nil {
		return err
	}
	defer p.Close()
	got, err := p.Replay(ctx, filter)
	if err != nil {
		return err
	}
	if err := p.Wait(ctx, nil); err != nil {
		return err
	}
	st := p.Stats()
	fmt.Fprintf(cmd.OutOrStdout(), "dewire replay: %d replayed, %d clean, %d dead-lettered again\n", len(got), st.Clean, st.DeadLettered)
	return nil
}

// ingestAll reads the paths and polls the feeds (once, or until ctx ends
// with --watch) into p.
func ingestAll(ctx context.Context, p *local.Pipeline, f *runFlags, args []string, stdin io.Reader) error {
	var wg sync.WaitGroup
	var pathErr, feedErr error
	if len(args) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pathErr = p.Ingest(ctx, args, local.IngestOptions{Source: f.source, Stdin: stdin, Watch: watchInterval(f)})
		}()
	}
	if len(f.feeds.urls) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			feedErr = p.IngestFeeds(ctx, !f.watch)
		}()
	}
	wg.Wait()
	return errors.Join(pathErr, feedErr)
}

func watchInterval(f *runFlags) time.Duration {
	if f.watch {
		return f.watchInterval
	}
	return 0
}

// summary adds up: read = published + duplicates + rejected + not yet
// published, and published = clean + dead-lettered + in flight.
func summary(st local.Stats, took time.Duration, out string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dewire run: %d read, %d published, %d clean, %d rejected, %d dead-lettered, %d duplicates",
		st.Read, st.Published, st.Clean, st.Rejected, st.DeadLettered, st.Duplicates)
	if n := notPublished(st); n > 0 {
		fmt.Fprintf(&b, ", %d not yet published", n)
	}
	if n := st.Pending(); n > 0 {
		fmt.Fprintf(&b, ", %d in flight", n)
	}
	if st.Unreadable > 0 {
		fmt.Fprintf(&b, ", %d unreadable files", st.Unreadable)
	}
	fmt.Fprintf(&b, " in %s\nengine: %d characters billed, %d segments from the translation memory", took.Round(time.Millisecond), st.BilledChars, st.MemoryHits)
	fmt.Fprintf(&b, "\nrecords: %s", filepath.Join(out, "articles-*.jsonl"))
	return b.String()
}
