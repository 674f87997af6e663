package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/stage"
)

// Options configure an ingest worker.
type Options struct {
	Reader *intake.Reader
	// Source, when set, is the source name of every item.
	Source string
	// Paths are files, folders (recursive) or "-" for Stdin.
	Paths []string
	Stdin io.Reader
	// Watch > 0 keeps polling the folders at this interval until ctx ends.
	Watch time.Duration
	// Settle is how long a watched file must stay unchanged before it is
	// read (default 2 s); see Source.Settle.
	Settle time.Duration
	// Feeds are RSS or Atom URLs, polled every FeedInterval (default 5m).
	Feeds        []string
	FeedInterval time.Duration
	// FeedsOnce polls the feeds once instead of until ctx ends.
	FeedsOnce bool
	// Serve keeps Run going until ctx ends once the inputs are read, for
	// POST /articles (registered on the Env's Mux) and feeds.
	Serve bool
	// MaxBody bounds one POST /articles body (default 16 × the article limit).
	MaxBody int64
	// Shards is how many publishers run in parallel (default: the Env's
	// Concurrency). One id always goes to one shard, so its revisions keep
	// their order.
	Shards int
	// Revisions assigns revisions; nil binds the shared KV bucket.
	Revisions article.RevisionStore
	// Seed, when set, is what a sink already holds for an id; see Publisher.Seed.
	Seed func(id string) (rev int, hash string, ok bool)
	// PublishTimeout bounds the wait for one PubAck (default 10 s).
	PublishTimeout time.Duration
	Events         Events
}

// Events tell the process running an ingest worker what became of its inputs.
type Events struct {
	Read       func(it intake.Item)              // an item was read
	Assigned   func(a *article.Article)          // a revision is about to be published
	Outcome    func(it intake.Item, out Outcome) // an item was published, found a duplicate, or rejected
	Failed     func(it intake.Item, err error)   // an item could not be published (the context ended, or a POST gave up)
	Unreadable func(path string, err error)      // an input could not be read; the others go on
}

// Ingester publishes what it reads into the pipeline: files, folders
// (watched), stdin, feeds and POST /articles, through one set of parallel
// publishers. Reads from files and feeds retry a failed publish with backoff
// until it succeeds or the context ends, so no input is ever skipped; a POST
// gets one attempt and a 503, so its client retries.
type Ingester struct {
	env    stage.Env
	o      Options
	log    *zap.Logger
	pub    *Publisher
	met    *metrics
	shards *shards

	mu      sync.Mutex
	failing int // publishes currently failing and being retried

	queued sync.WaitGroup // submitted items not yet published
}

// New binds the revision store (retrying while NATS is away) and starts the publishers.
func New(ctx context.Context, env stage.Env, o Options) (*Ingester, error) {
	log := env.Log
	if log == nil {
		log = zap.NewNop()
	}
	if o.Reader == nil {
		o.Reader = &intake.Reader{}
	}
	if o.Shards <= 0 {
		o.Shards = max(env.Concurrency, 1)
	}
	o.Reader = coherentLimits(o.Reader, env.JS.Conn().MaxPayload(), log)
	if o.MaxBody <= 0 {
		o.MaxBody = int64(limitsOf(o.Reader).MaxBytes) * 16
	}
	revs := o.Revisions
	if revs == nil {
		var kv *KVRevisions
		_ = env.Retry(ctx, "revisions", func(ctx context.Context) error {
			bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			var err error
			if kv, err = NewKVRevisions(bctx, env.JS, bus.BucketRevisions); err == nil {
				env.Health.Set("revisions", nil)
			}
			return err
		})
		if kv == nil {
			return nil, fmt.Errorf("ingest: %w", context.Cause(ctx))
		}
		revs = kv
	}
	g := &Ingester{env: env, o: o, log: log, met: newMetrics(env.Registry)}
	g.pub = &Publisher{JS: env.JS, Revisions: revs, OnAssigned: o.Events.Assigned, Seed: o.Seed, Timeout: o.PublishTimeout}
	g.shards = newShards(o.Shards, g.publishRetrying)
	env.Health.Watch("ingest publish", g.publishHealth)
	return g, nil
}

// limitsOf is r's limits with the defaults filled in.
func limitsOf(r *intake.Reader) intake.Limits {
	l := r.Limits
	if l.MaxBytes <= 0 {
		l.MaxBytes = intake.DefaultMaxBytes
	}
	return l
}

// coherentLimits keeps the article size limit within what the server can
// carry: a clean record holds the German, the English, the sentence pairs
// and the edits, about four times the input, so an article may be at most
// an eighth of max_payload. A larger limit is lowered, with a warning.
func coherentLimits(r *intake.Reader, maxPayload int64, log *zap.Logger) *intake.Reader {
	if maxPayload <= 0 {
		return r
	}
	lim := limitsOf(r)
	if allowed := int(maxPayload / 8); lim.MaxBytes > allowed {
		log.Warn("article size limit lowered to fit the server's max_payload",
			zap.Int("max_bytes", lim.MaxBytes), zap.Int("lowered_to", allowed), zap.Int64("max_payload", maxPayload))
		cp := *r
		cp.Limits.MaxBytes = allowed
		return &cp
	}
	return r
}

// publishOnce publishes one item. A record too large for the server becomes
// a rejection with the reason, since it could never be delivered.
func (g *Ingester) publishOnce(ctx context.Context, it intake.Item) (Outcome, error) {
	out, err := g.pub.Emit(ctx, it)
	if errors.Is(err, ErrTooLarge) && it.Article != nil {
		rej := *it.Article
		rej.DE, rej.EN, rej.Segments, rej.Edits, rej.Flags, rej.Entities = article.Text{}, nil, nil, nil, nil, nil
		rej.Rev = 0
		rej.Reject = &article.Reject{Code: intake.CodeTooLarge, Reason: err.Error()}
		it = intake.Item{Reject: &rej, Line: it.Line}
		out, err = g.pub.Reject(ctx, &rej)
	}
	if err != nil {
		g.met.publishErrors.Inc()
		return 0, err
	}
	g.count(it, out)
	return out, nil
}

func (g *Ingester) count(it intake.Item, out Outcome) {
	g.met.items.WithLabelValues(out.String()).Inc()
	switch out {
	case Rejected:
		g.met.rejected.WithLabelValues(it.Reject.Reject.Code).Inc()
		g.log.Info("rejected", zap.String("id", it.Reject.ID), zap.String("code", it.Reject.Reject.Code),
			zap.String("reason", it.Reject.Reject.Reason), zap.String("path", it.Reject.Source.Path))
	case Published, Republished:
		g.log.Debug("published", zap.String("id", it.Article.ID), zap.Int("rev", it.Article.Rev), zap.Stringer("outcome", out))
	}
	if g.o.Events.Outcome != nil {
		g.o.Events.Outcome(it, out)
	}
}

// publishRetrying publishes it, retrying with backoff (0.5 s doubling to
// 15 s) until it succeeds or ctx ends. The outage shows in the log, the
// publish-error metric and /readyz.
func (g *Ingester) publishRetrying(ctx context.Context, it intake.Item) (Outcome, error) {
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		out, err := g.publishOnce(ctx, it)
		if err == nil {
			if attempt > 1 {
				g.setFailing(-1)
				g.log.Info("publishing works again", zap.String("id", itemID(it)), zap.Int("attempts", attempt))
			}
			return out, nil
		}
		if ctx.Err() != nil {
			if attempt > 1 {
				g.setFailing(-1)
			}
			g.failed(it, err)
			return 0, ctx.Err()
		}
		if attempt == 1 {
			g.setFailing(+1)
		}
		if attempt == 1 || attempt%10 == 0 {
			g.log.Warn("publish failed; retrying", zap.String("id", itemID(it)), zap.Int("attempt", attempt), zap.Duration("in", delay), zap.Error(err))
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		delay = min(2*delay, 15*time.Second)
	}
}

func (g *Ingester) failed(it intake.Item, err error) {
	if g.o.Events.Failed != nil {
		g.o.Events.Failed(it, err)
	}
}

func (g *Ingester) setFailing(d int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failing += d
}

func (g *Ingester) publishHealth() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failing > 0 {
		return fmt.Errorf("%d article(s) waiting to be published", g.failing)
	}
	return nil
}

func itemID(it intake.Item) string {
	if it.Article != nil {
		return it.Article.ID
	}
	if it.Reject != nil {
		return it.Reject.ID
	}
	return ""
}

// Submit queues one item for publishing (retried until it succeeds or ctx
// ends) and returns at once; it fails only when ctx has ended.
func (g *Ingester) Submit(ctx context.Context, it intake.Item) error {
	if g.o.Events.Read != nil {
		g.o.Events.Read(it)
	}
	g.queued.Add(1)
	if !g.shards.submit(job{ctx: ctx, it: it, queued: &g.queued}) {
		g.queued.Done()
		g.failed(it, ctx.Err())
		return ctx.Err()
	}
	return nil
}

// Flush waits until every item submitted so far is published (or its context ended).
func (g *Ingester) Flush() { g.queued.Wait() }

// Publish publishes one item once, on its shard, and says what became of it
// (for requests whose client retries).
func (g *Ingester) Publish(ctx context.Context, it intake.Item) (Outcome, error) {
	r := <-g.start(ctx, it)
	return r.out, r.err
}

// start queues one item for a single publish on its shard and returns at
// once; the channel receives the outcome. The publish may take up to twice
// the PubAck timeout from when the shard takes it up.
func (g *Ingester) start(ctx context.Context, it intake.Item) <-chan result {
	if g.o.Events.Read != nil {
		g.o.Events.Read(it)
	}
	outcome := make(chan result, 1)
	then := func(r result) {
		if r.err != nil {
			g.failed(it, r.err)
		}
		outcome <- r
	}
	if !g.shards.submit(job{ctx: ctx, it: it, then: then, timeout: 2 * publishTimeout}) {
		then(result{err: ctx.Err()})
	}
	return outcome
}

func (g *Ingester) source() *Source {
	return &Source{
		Reader: g.o.Reader, Name: g.o.Source, Stdin: g.o.Stdin, Emit: g.Submit, Settle: g.o.Settle,
		OnError: func(path string, err error) {
			g.met.unreadable.Inc()
			g.log.Error("input unreadable", zap.String("path", path), zap.Error(err))
			if g.o.Events.Unreadable != nil {
				g.o.Events.Unreadable(path, err)
			}
		},
		OnSkip: g.skipped,
	}
}

// Input names files, folders or "-" to read.
type Input struct {
	Paths  []string
	Source string    // source name of every item (default: from the folder or file)
	Stdin  io.Reader // for "-"
	// Watch > 0 keeps polling the folders at this interval until ctx ends.
	Watch time.Duration
}

// Read reads in once, or keeps watching it. Items are queued for the
// publishers; Flush waits for them.
func (g *Ingester) Read(ctx context.Context, in Input) error {
	src := g.source()
	src.Name, src.Stdin = in.Source, in.Stdin
	if in.Watch > 0 {
		return src.Watch(ctx, in.Paths, in.Watch)
	}
	return src.Paths(ctx, in.Paths)
}

// PollFeeds polls the configured feeds once, or until ctx ends.
func (g *Ingester) PollFeeds(ctx context.Context, once bool) error {
	if len(g.o.Feeds) == 0 {
		return nil
	}
	f := &Feeds{
		URLs: g.o.Feeds, Interval: g.o.FeedInterval, Source: g.o.Source, Reader: g.o.Reader, Emit: g.Submit,
		OnError: g.feedFailed,
	}
	if once {
		return f.Poll(ctx)
	}
	return f.Run(ctx)
}

// HTTPHandler is POST /articles on this ingester.
func (g *Ingester) HTTPHandler() http.Handler {
	return httpHandler(g.o.Reader, g.start, g.o.MaxBody)
}

// Reader is the intake reader in use (its limits fitted to the server).
func (g *Ingester) Reader() *intake.Reader { return g.o.Reader }

// Close waits until every queued item is published (or its context ended).
func (g *Ingester) Close() { g.shards.close() }

// Run reads what Options name: the paths (watched with Watch), the feeds,
// and POST /articles on the Env's Mux; it returns when the finite inputs are
// read and published, or, with Serve or Watch, when ctx ends.
func (g *Ingester) Run(ctx context.Context) error {
	defer g.Close()
	if g.env.Mux != nil {
		g.env.Mux.Handle("/articles", g.HTTPHandler())
	}
	var wg sync.WaitGroup
	var pathErr, feedErr error
	if len(g.o.Paths) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pathErr = g.Read(ctx, Input{Paths: g.o.Paths, Source: g.o.Source, Stdin: g.o.Stdin, Watch: g.o.Watch})
		}()
	}
	if len(g.o.Feeds) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			feedErr = g.PollFeeds(ctx, g.o.FeedsOnce)
		}()
	}
	wg.Wait()
	g.Flush()
	if g.o.Serve {
		g.log.Info("ingesting until stopped", zap.Strings("feeds", g.o.Feeds))
		<-ctx.Done()
	}
	err := errors.Join(pathErr, feedErr)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Run is the ingest worker: New, then Run until the inputs are read or ctx ends.
func Run(ctx context.Context, env stage.Env, o Options) error {
	g, err := New(ctx, env, o)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	return g.Run(ctx)
}
