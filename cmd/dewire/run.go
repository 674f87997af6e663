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
	"golang.org/x/term"

	"github.com/dewire/dewire/pipeline/intake"
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
	concurrency                         int
	progress                            string
	norm                                normFlags
	in                                  intakeFlags
	eng                                 engineFlags
	sinks                               sinkFlags
	topo                                topoFlags
	feeds                               feedFlags
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
Ctrl-C stops reading, lets in-flight articles finish, and exits.`,
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
	fs.StringVar(&f.listen, "listen", "", "also accept NATS clients (desks, workers) on host:port")
	fs.BoolVar(&f.durable, "durable", false, "fsync every JetStream write (sync_interval: always)")
	fs.BoolVar(&f.watch, "watch", false, "keep watching the folders for new or changed files")
	fs.DurationVar(&f.watchInterval, "watch-interval", 2*time.Second, "how often --watch looks at the folders")
	fs.StringVar(&f.source, "source", "", "source name for every article (default: from the folder or file name)")
	fs.StringVar(&f.httpAddr, "http-addr", "", "serve the desk (pages, /feed.atom, /api/articles), /metrics, /healthz, /readyz and POST /articles on this address")
	fs.IntVar(&f.concurrency, "concurrency", 32, "articles in flight per stage")
	fs.StringVar(&f.progress, "progress", "auto", "progress display: auto (a bar on a terminal), bar, none")
	f.feeds.register(fs)
	f.norm.register(fs)
	f.in.register(fs)
	f.eng.register(fs)
	f.sinks.register(fs)
	f.topo.register(fs)
	f.desk.register(fs)
	envHelp(fs)
	return cmd
}

func runPipeline(cmd *cobra.Command, g *globalFlags, f *runFlags, args []string) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log, err := newLogger(g)
	if err != nil {
		return err
	}
	defer log.Sync()
	reader, err := f.in.reader()
	if err != nil {
		return err
	}
	probes := worker.NewProbes()
	p, err := startLocal(ctx, f, reader, log, probes)
	if err != nil {
		return err
	}
	defer func() {
		if err := p.Close(); err != nil {
			log.Warn("shutdown", zap.Error(err))
		}
	}()
	if f.httpAddr != "" {
		if err := f.desk.start(ctx, p.JetStream(), probes.Mux, log); err != nil {
			return err
		}
	}
	if err := probes.Serve(ctx, f.httpAddr, log); err != nil {
		return startupError(err)
	}

	start := time.Now()
	show := newProgress(cmd.ErrOrStderr(), f.progress)
	stopBar := show.follow(p.Stats)
	stdin := cmd.InOrStdin()
	ingestErr := make(chan error, 1)
	go func() {
		ingestErr <- ingestAll(ctx, p, f, args, stdin)
	}()
	var runErr error
	select {
	case runErr = <-ingestErr:
	case <-ctx.Done():
		runErr = <-ingestErr
	}
	if runErr == nil && ctx.Err() == nil {
		runErr = p.Wait(ctx, nil)
	}
	stopBar()
	st := p.Stats()
	fmt.Fprintln(cmd.OutOrStdout(), summary(st, time.Since(start), f.out))
	if ctx.Err() != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "interrupted: %d articles still in the pipeline; they resume on the next run with --data %s\n", st.Pending(), f.data)
		return nil
	}
	if runErr == nil && st.Unreadable > 0 {
		runErr = fmt.Errorf("%d input(s) could not be read (see the log)", st.Unreadable)
	}
	return runErr
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
	p, err := local.Start(ctx, local.Config{
		DataDir: f.data, OutDir: f.out, Listen: f.listen, Durable: f.durable,
		Reader: reader, NormDE: de, NormEN: en, Sink: so, DeskNames: &pnorm.DeskNames{},
		Translate: translate.Options{EngineConfig: f.eng.config()},
		Feeds:     f.feeds.urls, FeedInterval: f.feeds.interval,
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

func summary(st local.Stats, took time.Duration, out string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dewire run: %d read, %d published, %d clean, %d rejected, %d dead-lettered, %d duplicates",
		st.Read, st.Published, st.Clean, st.Rejected, st.DeadLettered, st.Duplicates)
	if st.Unreadable > 0 {
		fmt.Fprintf(&b, ", %d unreadable files", st.Unreadable)
	}
	fmt.Fprintf(&b, " in %s\nrecords: %s", took.Round(time.Millisecond), filepath.Join(out, "articles-*.jsonl"))
	return b.String()
}

// progress draws a one-line bar on a terminal.
type progress struct {
	w  io.Writer
	on bool
}

func newProgress(w io.Writer, mode string) *progress {
	on := mode == "bar"
	if mode == "auto" {
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			on = true
		}
	}
	return &progress{w: w, on: on}
}

func (p *progress) update(st local.Stats) {
	done := st.Clean + st.DeadLettered
	total := max(st.Published, 1)
	const width = 30
	n := done * width / total
	fmt.Fprintf(p.w, "\r[%s%s] read %d · clean %d/%d · rejected %d · dlq %d · dup %d ",
		strings.Repeat("#", n), strings.Repeat(".", width-n), st.Read, st.Clean, st.Published, st.Rejected, st.DeadLettered, st.Duplicates)
}

// follow redraws the bar from stats until the returned stop is called,
// which also clears the line.
func (p *progress) follow(stats func() local.Stats) (stop func()) {
	if !p.on {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(p.w, "\r\033[K")
				return
			case <-t.C:
				p.update(stats())
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
