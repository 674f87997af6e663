package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/workers/bus"
)

// Config sets up one chaos run.
type Config struct {
	Root    string // repository root, where the dewire binary is built from
	Dewire  string // a dewire binary to use instead of building one
	WorkDir string // folder for everything the run writes; empty: a new temporary one
	Keep    bool   // keep WorkDir afterwards

	Cluster  bool          // three nats-servers with routes instead of one
	Articles int           // items to submit (posts' items plus files' items)
	Kills    int           // worker SIGKILLs
	Restarts int           // nats-server restarts (in a cluster: node kills and stops)
	Outage   time.Duration // how long a nats-server stays down (or stopped)
	LoadFor  time.Duration // the span over which the load starts and the faults happen
	QuietFor time.Duration // the pipeline is quiet when nothing changed this long
	Deadline time.Duration // longest wait for the pipeline to become quiet after the load
	Seed     int64

	EngineFailRate float64       // share of engine requests answered 429 or 5xx
	EngineDelay    time.Duration // longest random engine delay

	// NATSCommand starts a nats-server process: ServeNATS's flags are
	// appended, NATSEnv added to the environment. The command re-executes
	// itself with a hidden subcommand; a test re-executes its test binary.
	NATSCommand []string
	NATSEnv     []string

	Out io.Writer // progress and the report; nil: os.Stdout
}

// DefaultConfig is the full run, or with short the one CI runs.
func DefaultConfig(short bool) Config {
	c := Config{Articles: 1000, Kills: 24, Restarts: 3, Outage: 12 * time.Second, LoadFor: 150 * time.Second,
		QuietFor: 60 * time.Second, Deadline: 6 * time.Minute, Seed: 1, EngineFailRate: 0.08, EngineDelay: 200 * time.Millisecond}
	if short {
		c.Articles, c.Kills, c.Restarts, c.Outage, c.LoadFor = 150, 10, 2, 7*time.Second, 50*time.Second
		c.QuietFor, c.Deadline = 30*time.Second, 3*time.Minute
	}
	return c
}

// Report is the outcome of a run.
type Report struct {
	Cluster bool
	Audit
	Posts, PostAttempts, PostedItems, FileWrites, FileItems int
	Kills                                                   map[string]int // by worker kind
	NATSRestarts, NATSStops                                 int
	Faults                                                  []string // timeline
	Crashes                                                 []string // unplanned exits, alike ones grouped
	Exits                                                   int      // unplanned exits
	Stops                                                   []string // how each worker ended on SIGTERM
	Logs                                                    []string // error summary per log file
	Quiet                                                   string   // how the wait for a quiet pipeline ended
	Backlog                                                 string   // consumers' backlogs when it ended
	EngineRequests, EngineFailures                          int64
	WorkDir                                                 string
}

// Failed reports whether a delivery promise was broken.
func (r *Report) Failed() bool {
	return len(r.Lost) > 0 || len(r.Duplicated) > 0 || len(r.TMXMissing) > 0
}

// run holds the state of one chaos run.
type run struct {
	cfg     Config
	out     io.Writer
	work    string
	dewire  string
	nodes   []natsNode
	workers []*proc
	began   time.Time

	mu     sync.Mutex
	report *Report

	nc *nats.Conn
	js jetstream.JetStream

	token string // what POST /articles requires
}

// Run performs one chaos run and returns its report; the error is for a
// run that could not be carried out, not for a broken promise (see
// Report.Failed). Every process it started is gone when it returns.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if len(cfg.NATSCommand) == 0 {
		return nil, errors.New("chaos: no command to start nats-server with")
	}
	out := cfg.Out
	if out == nil {
		out = os.Stdout
	}
	r := &run{cfg: cfg, out: out, report: &Report{Cluster: cfg.Cluster, Kills: map[string]int{}}, token: fmt.Sprintf("chaos-%d-%d", cfg.Seed, time.Now().UnixNano())}
	r.work = cfg.WorkDir
	if entries, err := os.ReadDir(r.work); r.work != "" && err == nil && len(entries) > 0 {
		// A previous run's store and sink would mix with this run's.
		return nil, fmt.Errorf("chaos: work folder %s is not empty", r.work)
	}
	if r.work == "" {
		if r.work, err = os.MkdirTemp("", "dewire-chaos-"); err != nil {
			return nil, fmt.Errorf("chaos: work folder: %w", err)
		}
	}
	r.report.WorkDir = r.work
	if !cfg.Keep {
		defer os.RemoveAll(r.work)
	}
	for _, d := range []string{"bin", "logs", "in", "out", "nats"} {
		if err := os.MkdirAll(filepath.Join(r.work, d), 0o755); err != nil {
			return nil, fmt.Errorf("chaos: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var procs []*proc
	defer func() {
		// Whatever happened, no child outlives the run.
		for _, p := range procs {
			p.forceKill()
		}
		for _, p := range procs {
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
			}
		}
	}()
	if err := r.build(ctx); err != nil {
		return nil, err
	}
	engine := NewFakeEngine(cfg.Seed, cfg.EngineFailRate, cfg.EngineDelay)
	es := httptest.NewServer(engine)
	defer es.Close()

	if err := r.startNATS(ctx, &procs); err != nil {
		return nil, err
	}
	if err := r.connect(ctx); err != nil {
		return nil, err
	}
	defer r.nc.Close()
	if err := r.setup(ctx); err != nil {
		return nil, err
	}
	httpAddr, err := r.startWorkers(ctx, es.URL, &procs)
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, "http://"+httpAddr+"/readyz", time.Minute); err != nil {
		return nil, fmt.Errorf("chaos: ingest: %w (see %s)", err, filepath.Join(r.work, "logs"))
	}

	tasks := plan(cfg.Seed, cfg.Articles, time.Duration(float64(cfg.LoadFor)*0.85))
	led := newLedger()
	ld := &loader{httpURL: "http://" + httpAddr + "/articles?source=chaos-http", token: r.token, dir: filepath.Join(r.work, "in"), js: r.js, led: led,
		postSem: make(chan struct{}, 6), postFor: 2 * time.Minute, folderWait: 15*time.Second + cfg.Outage,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}, seed: cfg.Seed}
	fmt.Fprintf(r.out, "chaos: %d load tasks over %s, %d worker kills, %d nats faults (work dir %s)\n", len(tasks), cfg.LoadFor, cfg.Kills, cfg.Restarts, r.work)
	r.began = time.Now()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.killWorkers(ctx) }()
	go func() { defer wg.Done(); r.natsFaults(ctx) }()
	ld.run(ctx, tasks)
	if ctx.Err() != nil {
		wg.Wait()
		return nil, fmt.Errorf("chaos: %w", ctx.Err())
	}
	fmt.Fprintf(r.out, "chaos: load done after %s; waiting for the faults to end\n", time.Since(r.began).Round(time.Second))
	wg.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("chaos: %w", ctx.Err())
	}
	r.report.Quiet = r.waitQuiet(ctx, led, filepath.Join(r.work, "out"))
	r.report.Backlog, _ = r.progress(ctx, filepath.Join(r.work, "out"))
	fmt.Fprintf(r.out, "chaos: %s after %s; stopping workers\n", r.report.Quiet, time.Since(r.began).Round(time.Second))
	for _, w := range r.workers {
		if st := w.stop(15 * time.Second); st != "" && st != "exit status 0" {
			r.report.Stops = append(r.report.Stops, fmt.Sprintf("%s on SIGTERM: %s; last log line: %s", w.name, st, lastLine(w.logPath)))
		}
	}
	r.report.Audit = audit(ctx, led, filepath.Join(r.work, "out"), r.js)
	led.mu.Lock()
	r.report.Posts, r.report.PostAttempts, r.report.PostedItems = led.posts, led.postAttempts, led.postedItems
	r.report.FileWrites, r.report.FileItems = led.fileWrites, led.fileItems
	led.mu.Unlock()
	for _, p := range procs {
		lines, n := p.crashList()
		for _, c := range lines {
			r.report.Crashes = append(r.report.Crashes, p.name+": "+c)
		}
		r.report.Exits += n
		if s := summarizeLog(p.logPath); s != "" {
			r.report.Logs = append(r.report.Logs, p.name+": "+s)
		}
	}
	r.report.EngineRequests, r.report.EngineFailures = engine.Requests.Load(), engine.Failures.Load()
	return r.report, nil
}

func (r *run) build(ctx context.Context) error {
	if r.cfg.Dewire != "" {
		r.dewire = r.cfg.Dewire
		return nil
	}
	r.dewire = filepath.Join(r.work, "bin", "dewire")
	bctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(bctx, "go", "build", "-o", r.dewire, "./cmd/dewire")
	cmd.Dir = r.cfg.Root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("chaos: go build ./cmd/dewire: %w\n%s", err, b)
	}
	return nil
}

func (r *run) startNATS(ctx context.Context, procs *[]*proc) error {
	n := 1
	if r.cfg.Cluster {
		n = 3
	}
	for i := range n {
		node := natsNode{name: "nats-" + strconv.Itoa(i+1), port: freePort()}
		if r.cfg.Cluster {
			node.clusterPort = freePort()
		}
		r.nodes = append(r.nodes, node)
	}
	for i := range r.nodes {
		store := filepath.Join(r.work, "nats", r.nodes[i].name)
		argv := append(append([]string(nil), r.cfg.NATSCommand...), natsArgs(r.nodes, i, store)...)
		p := newProc(r.nodes[i].name, "nats", filepath.Join(r.work, "logs", r.nodes[i].name+".log"), argv, r.cfg.NATSEnv)
		r.nodes[i].proc = p
		*procs = append(*procs, p)
		go p.supervise(ctx)
	}
	for _, node := range r.nodes {
		if err := waitTCP(ctx, "127.0.0.1:"+strconv.Itoa(node.port), 30*time.Second); err != nil {
			return fmt.Errorf("chaos: %s: %w (see %s)", node.name, err, node.proc.logPath)
		}
	}
	return nil
}

func (r *run) connect(ctx context.Context) error {
	nc, err := nats.Connect(clientURLs(r.nodes), nats.Name("dewire-chaos"), nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond), nats.Timeout(2*time.Second))
	if err != nil {
		return fmt.Errorf("chaos: connect to nats: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("chaos: jetstream: %w", err)
	}
	r.nc, r.js = nc, js
	return nil
}

// setup runs `dewire setup` until it succeeds (a new cluster needs a moment
// to elect its JetStream leader).
func (r *run) setup(ctx context.Context) error {
	replicas := "1"
	if r.cfg.Cluster {
		replicas = "3"
	}
	deadline := time.Now().Add(90 * time.Second)
	logPath := filepath.Join(r.work, "logs", "setup.log")
	for {
		sctx, cancel := context.WithTimeout(ctx, 45*time.Second)
		cmd := exec.CommandContext(sctx, r.dewire, "setup", "--nats-url", clientURLs(r.nodes), "--replicas", replicas, "--log-format", "json")
		b, err := cmd.CombinedOutput()
		cancel()
		if f, ferr := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); ferr == nil {
			f.Write(b)
			f.Close()
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("chaos: dewire setup: %w\n%s", err, b)
		}
		sleepCtx(ctx, 2*time.Second)
	}
}

// startWorkers starts every worker kind and returns the address of the
// ingest that accepts POST /articles.
func (r *run) startWorkers(ctx context.Context, engineURL string, procs *[]*proc) (string, error) {
	urls := clientURLs(r.nodes)
	common := func(kind string) (string, []string) {
		addr := "127.0.0.1:" + strconv.Itoa(freePort())
		return addr, []string{r.dewire, "worker", kind, "--nats-url", urls, "--http-addr", addr, "--log-format", "json", "--grace", "5s", "--concurrency", "4"}
	}
	httpAddr, ingestHTTP := common("ingest")
	// POST /articles is locked as in production: a bearer token from a file.
	tokenFile := filepath.Join(r.work, "http-token")
	if err := os.WriteFile(tokenFile, []byte(r.token+"\n"), 0o600); err != nil {
		return "", err
	}
	ingestHTTP = append(ingestHTTP, "--http-token-file", tokenFile)
	_, ingestWatch := common("ingest")
	ingestWatch = append(ingestWatch, "--watch", "--watch-interval", "500ms", filepath.Join(r.work, "in"))
	specs := []struct {
		name, kind string
		argv       []string
	}{
		{"ingest-http", "ingest", ingestHTTP},
		{"ingest-watch", "ingest", ingestWatch},
	}
	for i := 1; i <= 2; i++ {
		_, n := common("normalize")
		specs = append(specs, struct {
			name, kind string
			argv       []string
		}{"normalize-" + strconv.Itoa(i), "normalize", n})
		_, t := common("translate")
		specs = append(specs, struct {
			name, kind string
			argv       []string
		}{"translate-" + strconv.Itoa(i), "translate", append(t, "--engine", "libretranslate", "--libretranslate-url", engineURL)})
	}
	_, s := common("sink")
	specs = append(specs, struct {
		name, kind string
		argv       []string
	}{"sink", "sink", append(s, "--out", filepath.Join(r.work, "out"))})
	for _, sp := range specs {
		p := newProc(sp.name, sp.kind, filepath.Join(r.work, "logs", sp.name+".log"), sp.argv, nil)
		r.workers = append(r.workers, p)
		*procs = append(*procs, p)
		go p.supervise(ctx)
	}
	return httpAddr, nil
}

func (r *run) fault(format string, args ...any) {
	line := fmt.Sprintf("%6.1fs ", time.Since(r.began).Seconds()) + fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.report.Faults = append(r.report.Faults, line)
	r.mu.Unlock()
}

// killWorkers SIGKILLs workers at random moments of the load, every kind in
// turn, each coming back after a random pause.
func (r *run) killWorkers(ctx context.Context) {
	rng := rand.New(rand.NewSource(r.cfg.Seed * 31))
	kinds := []string{"ingest", "normalize", "translate", "sink"}
	// Kills end before the last server fault, so the pipeline must heal
	// from that one by itself, with no restart to help.
	slot := (r.lastNATSFault() - r.cfg.Outage/2) / time.Duration(r.cfg.Kills+1)
	for i := range r.cfg.Kills {
		at := slot*time.Duration(i+1) + time.Duration(rng.Int63n(int64(slot/2)+1)) - slot/4
		if !sleepCtx(ctx, time.Until(r.began.Add(at))) {
			return
		}
		kind := kinds[i%len(kinds)]
		var cands []*proc
		for _, w := range r.workers {
			if w.kind == kind && w.running() {
				cands = append(cands, w)
			}
		}
		if len(cands) == 0 {
			r.fault("no %s worker running to kill", kind)
			continue
		}
		w := cands[rng.Intn(len(cands))]
		down := time.Duration(200+rng.Intn(2800)) * time.Millisecond
		if w.kill(syscall.SIGKILL, down) {
			r.mu.Lock()
			r.report.Kills[kind]++
			r.mu.Unlock()
			r.fault("SIGKILL %s, back in %s", w.name, down)
		}
	}
}

// natsFaults restarts the server (alternately SIGKILL and SIGTERM) or, in a
// cluster, kills or stops a node (the leader of a stream, or any node),
// each for cfg.Outage, one fault at a time.
func (r *run) natsFaults(ctx context.Context) {
	rng := rand.New(rand.NewSource(r.cfg.Seed * 37))
	streams := []string{bus.StreamRaw, bus.StreamNormalized, bus.StreamTranslated, bus.StreamClean}
	for i := range r.cfg.Restarts {
		at := r.lastNATSFault() * time.Duration(i+1) / time.Duration(r.cfg.Restarts)
		if !sleepCtx(ctx, time.Until(r.began.Add(at))) {
			return
		}
		node, why := r.nodes[0], "the server"
		if r.cfg.Cluster {
			stream := streams[rng.Intn(len(streams))]
			if i%3 == 2 {
				node, why = r.nodes[rng.Intn(len(r.nodes))], "a random node"
			} else if leader, err := r.leader(ctx, stream); err == nil {
				node, why = leader, "leader of "+stream
			} else {
				node, why = r.nodes[rng.Intn(len(r.nodes))], "a random node ("+stream+" leader unknown: "+err.Error()+")"
			}
		}
		switch {
		case r.cfg.Cluster && i%3 == 1:
			if node.proc.signal(syscall.SIGSTOP) {
				r.fault("SIGSTOP %s (%s) for %s", node.name, why, r.cfg.Outage)
				sleepCtx(ctx, r.cfg.Outage)
				node.proc.signal(syscall.SIGCONT)
				r.fault("SIGCONT %s", node.name)
				r.mu.Lock()
				r.report.NATSStops++
				r.mu.Unlock()
			}
		default:
			sig := syscall.SIGKILL
			if !r.cfg.Cluster && i%2 == 1 {
				sig = syscall.SIGTERM
			}
			if node.proc.kill(sig, r.cfg.Outage) {
				r.fault("%s %s (%s), down for %s", strings.ToUpper(sigName(sig)), node.name, why, r.cfg.Outage)
				r.mu.Lock()
				r.report.NATSRestarts++
				r.mu.Unlock()
				sleepCtx(ctx, r.cfg.Outage)
				if err := waitTCP(ctx, "127.0.0.1:"+strconv.Itoa(node.port), time.Minute); err != nil {
					r.fault("%s did not come back: %v", node.name, err)
				} else {
					r.fault("%s back", node.name)
				}
			}
		}
	}
}

// lastNATSFault is when the last server fault begins: at four fifths of the
// load, while articles still arrive.
func (r *run) lastNATSFault() time.Duration { return r.cfg.LoadFor * 4 / 5 }

func sigName(s syscall.Signal) string {
	if s == syscall.SIGTERM {
		return "sigterm"
	}
	return "sigkill"
}

// leader finds the node leading a stream from the stream info's cluster
// section, as an operator's monitoring client would.
func (r *run) leader(ctx context.Context, stream string) (natsNode, error) {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	s, err := r.js.Stream(cctx, stream)
	if err != nil {
		return natsNode{}, err
	}
	info, err := s.Info(cctx)
	if err != nil {
		return natsNode{}, err
	}
	if info.Cluster == nil || info.Cluster.Leader == "" {
		return natsNode{}, errors.New("no leader")
	}
	for _, n := range r.nodes {
		if n.name == info.Cluster.Leader {
			return n, nil
		}
	}
	return natsNode{}, fmt.Errorf("leader %q is not one of ours", info.Cluster.Leader)
}

// waitQuiet waits until every expected record is in the sink and the
// consumers are idle, or they are idle and nothing changed for QuietFor,
// or Deadline passes. A message a consumer still holds (delivered and not
// acknowledged, or handed back with a delay that can reach minutes after
// many failed deliveries) is not lost: only the deadline ends that wait.
func (r *run) waitQuiet(ctx context.Context, led *ledger, out string) string {
	deadline := time.Now().Add(r.cfg.Deadline)
	var last string
	lastChange := time.Now()
	for {
		sig, idle := r.progress(ctx, out)
		if sig != last {
			last, lastChange = sig, time.Now()
		}
		if idle && time.Since(lastChange) > 4*time.Second {
			sf, err := readSink(out)
			if err == nil && allPresent(led, sf) {
				return "every expected record is in the sink"
			}
		}
		if idle && time.Since(lastChange) > r.cfg.QuietFor {
			return fmt.Sprintf("nothing changed for %s", r.cfg.QuietFor)
		}
		if time.Now().After(deadline) {
			return fmt.Sprintf("still busy at the %s deadline (%s)", r.cfg.Deadline, sig)
		}
		if !sleepCtx(ctx, 2*time.Second) {
			return "interrupted"
		}
	}
}

func allPresent(led *ledger, sf sinkFiles) bool {
	have := map[key]bool{}
	for _, s := range sf.records {
		have[key{s.ID, s.Hash}] = true
	}
	led.mu.Lock()
	defer led.mu.Unlock()
	for k := range led.expected {
		if !have[k] {
			return false
		}
	}
	return true
}

// progress sums up what can still change: the sink files' sizes, the
// streams' message counts and the consumers' backlogs.
func (r *run) progress(ctx context.Context, out string) (string, bool) {
	var size int64
	files, _ := filepath.Glob(filepath.Join(out, "articles-*"))
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			size += st.Size()
		}
	}
	parts := []string{"sink " + strconv.FormatInt(size, 10) + " bytes"}
	idle := true
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, c := range [][2]string{{bus.StreamRaw, bus.ConsumerNormalizeDE}, {bus.StreamNormalized, bus.ConsumerTranslate},
		{bus.StreamTranslated, bus.ConsumerNormalizeEN}, {bus.StreamClean, bus.ConsumerSink}} {
		cons, err := r.js.Consumer(cctx, c[0], c[1])
		if err != nil {
			parts, idle = append(parts, c[1]+" unknown"), false
			continue
		}
		info, err := cons.Info(cctx)
		if err != nil {
			parts, idle = append(parts, c[1]+" unknown"), false
			continue
		}
		parts = append(parts, fmt.Sprintf("%s pending %d acking %d", c[1], info.NumPending, info.NumAckPending))
		if info.NumPending > 0 || info.NumAckPending > 0 {
			idle = false
		}
	}
	for _, name := range []string{bus.StreamDLQ, bus.StreamRejected} {
		if s, err := r.js.Stream(cctx, name); err == nil {
			if info, err := s.Info(cctx); err == nil {
				parts = append(parts, fmt.Sprintf("%s %d", name, info.State.Msgs))
			}
		}
	}
	return strings.Join(parts, ", "), idle
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitTCP(ctx context.Context, addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not reachable within %s: %w", addr, within, err)
		}
		if !sleepCtx(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
}

func waitReady(ctx context.Context, url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %s: %w", url, within, err)
		}
		if !sleepCtx(ctx, 300*time.Millisecond) {
			return ctx.Err()
		}
	}
}
