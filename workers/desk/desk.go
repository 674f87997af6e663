package desk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	json "github.com/goccy/go-json"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
)

// Options configure a Desk.
type Options struct {
	// Editors maps each editor token to the editor's name (see ParseEditors).
	// Without editors the desk is read-only.
	Editors map[string]string
	Log     *zap.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Title is shown in the page header (default "dewire desk").
	Title string
}

// Desk is the desk's state: the index of the clean stream, the reviewed
// flags, and the live subscribers. Its zero value is not usable; use New.
type Desk struct {
	js      jetstream.JetStream
	opt     Options
	log     *zap.Logger
	idx     *index
	secret  []byte // signs sessions; new on every start
	pubMu   sync.Mutex
	pub     *ingest.Publisher // made on the first reprocess
	caughtU chan struct{}
	once    sync.Once

	mu   sync.Mutex
	subs map[chan Summary]struct{}
}

// ErrNotFound is returned for an article or revision the clean stream does not hold.
var ErrNotFound = errors.New("desk: not found")

// New returns a desk over js. Run must be running for it to see articles.
func New(js jetstream.JetStream, o Options) (*Desk, error) {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Title == "" {
		o.Title = "dewire desk"
	}
	secret, err := randomBytes(32)
	if err != nil {
		return nil, fmt.Errorf("desk: %w", err)
	}
	return &Desk{js: js, opt: o, log: o.Log, idx: newIndex(), secret: secret,
		caughtU: make(chan struct{}), subs: map[chan Summary]struct{}{}}, nil
}

// Run reads the clean stream and the desk's bucket until ctx ends.
func (d *Desk) Run(ctx context.Context) error {
	errs := make(chan error, 2)
	go func() { errs <- d.follow(ctx) }()
	go func() { errs <- d.watchReviews(ctx) }()
	var first error
	for range 2 {
		if err := <-errs; err != nil && first == nil && ctx.Err() == nil {
			first = err
		}
	}
	return first
}

// CaughtUp is closed once the desk has read every record the clean stream
// held when Run started.
func (d *Desk) CaughtUp() <-chan struct{} { return d.caughtU }

// Len is how many articles the desk lists.
func (d *Desk) Len() int { return d.idx.Len() }

// follow reads ARTICLES_CLEAN from the start with an ordered consumer (the
// desk's own: nothing is acknowledged, the sink's consumer is untouched).
func (d *Desk) follow(ctx context.Context) error {
	var stream jetstream.Stream
	for {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		s, err := d.js.Stream(sctx, bus.StreamClean)
		cancel()
		if err == nil {
			stream = s
			break
		}
		d.log.Warn("desk: clean stream not available; retrying", zap.Error(err))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
	if info, err := stream.Info(ctx); err == nil && info.State.Msgs == 0 {
		d.once.Do(func() { close(d.caughtU) })
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return fmt.Errorf("desk: clean stream consumer: %w", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		md, err := m.Metadata()
		if err != nil {
			return
		}
		var a article.Article
		if err := json.Unmarshal(m.Data(), &a); err != nil || a.ID == "" {
			d.log.Warn("desk: unreadable record", zap.Uint64("seq", md.Sequence.Stream), zap.Error(err))
		} else {
			s := d.idx.add(&a, md.Sequence.Stream)
			d.broadcast(s)
		}
		if md.NumPending == 0 {
			d.once.Do(func() { close(d.caughtU) })
		}
	})
	if err != nil {
		return fmt.Errorf("desk: consume clean stream: %w", err)
	}
	<-ctx.Done()
	cc.Stop()
	return nil
}

// watchReviews keeps the reviewed flags in step with the desk's bucket,
// so every desk instance shows the same.
func (d *Desk) watchReviews(ctx context.Context) error {
	kv, err := d.bucket(ctx, bus.BucketDesk)
	if err != nil {
		return err
	}
	w, err := kv.Watch(ctx, "review.>")
	if err != nil {
		return fmt.Errorf("desk: watch reviews: %w", err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e != nil {
				d.idx.setReviewed(e.Key(), e.Operation() == jetstream.KeyValuePut)
			}
		}
	}
}

func (d *Desk) bucket(ctx context.Context, name string) (jetstream.KeyValue, error) {
	for {
		bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		kv, err := d.js.KeyValue(bctx, name)
		cancel()
		if err == nil {
			return kv, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		d.log.Warn("desk: bucket not available; retrying", zap.String("bucket", name), zap.Error(err))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// Record returns revision rev of id (0: the latest) from the clean stream.
func (d *Desk) Record(ctx context.Context, id string, rev int) (*article.Article, Summary, error) {
	s, ok := d.idx.get(id)
	if !ok {
		return nil, s, fmt.Errorf("article %s: %w", id, ErrNotFound)
	}
	seq := uint64(0)
	for _, r := range s.Revisions {
		if rev == 0 || r.Rev == rev {
			seq = r.Seq
		}
	}
	if seq == 0 {
		return nil, s, fmt.Errorf("article %s@%d: %w", id, rev, ErrNotFound)
	}
	a, err := d.recordAt(ctx, seq)
	return a, s, err
}

func (d *Desk) recordAt(ctx context.Context, seq uint64) (*article.Article, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	stream, err := d.js.Stream(ctx, bus.StreamClean)
	if err != nil {
		return nil, fmt.Errorf("desk: clean stream: %w", err)
	}
	m, err := stream.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("record at %d (aged out): %w", seq, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("desk: record at %d: %w", seq, err)
	}
	var a article.Article
	if err := json.Unmarshal(m.Data, &a); err != nil {
		return nil, fmt.Errorf("desk: record at %d: %w", seq, err)
	}
	return &a, nil
}

// subscribe returns a channel of new summaries and its cancel function.
func (d *Desk) subscribe() (chan Summary, func()) {
	ch := make(chan Summary, 64)
	d.mu.Lock()
	d.subs[ch] = struct{}{}
	d.mu.Unlock()
	return ch, func() {
		d.mu.Lock()
		delete(d.subs, ch)
		d.mu.Unlock()
	}
}

func (d *Desk) broadcast(s Summary) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for ch := range d.subs {
		select {
		case ch <- s:
		default: // a slow subscriber misses an update rather than stalling the desk
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
