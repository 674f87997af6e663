package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stream names.
const (
	StreamRaw        = "ARTICLES_RAW"
	StreamNormalized = "ARTICLES_NORMALIZED"
	StreamTranslated = "ARTICLES_TRANSLATED"
	StreamClean      = "ARTICLES_CLEAN"
	StreamRejected   = "ARTICLES_REJECTED"
	StreamDLQ        = "ARTICLES_DLQ"
	// StreamAdvisories keeps MAX_DELIVERIES advisories so the DLQ mover
	// sees them even if it was down when the server sent them.
	StreamAdvisories = "DEWIRE_ADVISORIES"
)

// Durable consumer names.
const (
	ConsumerNormalizeDE = "normalize-de"
	ConsumerTranslate   = "translate"
	ConsumerNormalizeEN = "normalize-en"
	ConsumerSink        = "sink"
)

// MoverConsumer names the consumer on the advisory stream that feeds the
// DLQ mover of one pipeline consumer; each worker kind moves only its own.
func MoverConsumer(durable string) string { return "dlq-mover-" + durable }

// KV buckets.
const (
	BucketRevisions = "dewire_revisions"
	BucketMemory    = "dewire_tm"
	// BucketDeskNames holds the names a desk added (one entity per key);
	// every normalize worker watches it.
	BucketDeskNames = "dewire_desk_names"
	// BucketDesk holds the desk's actions: reviewed flags and the audit log.
	BucketDesk = "dewire_desk"
)

// Topology describes the streams, consumers and buckets. The zero value is
// not useful; start from DefaultTopology.
type Topology struct {
	Replicas      int
	Storage       jetstream.StorageType
	CleanMaxAge   time.Duration
	ArchiveMaxAge time.Duration // rejected and DLQ
	// DuplicateWindow must exceed the longest redelivery horizon (AckWait
	// plus all backoff delays up to MaxDeliver) so a re-publish after any
	// crash is still recognised.
	DuplicateWindow time.Duration
	AckWait         time.Duration
	MaxDeliver      int
	MaxAckPending   int
}

// DefaultTopology is what dewire run, dewire setup and every worker use unless told otherwise.
func DefaultTopology() Topology {
	return Topology{
		Replicas:        1,
		Storage:         jetstream.FileStorage,
		CleanMaxAge:     7 * 24 * time.Hour,
		ArchiveMaxAge:   30 * 24 * time.Hour,
		DuplicateWindow: 2 * time.Hour,
		AckWait:         30 * time.Second,
		MaxDeliver:      8,
		MaxAckPending:   256,
	}
}

// ConsumerSpec binds a durable consumer to the stream it reads.
type ConsumerSpec struct {
	Stream  string
	Durable string
	AckWait time.Duration
}

// Consumers lists the durable pull consumers of the pipeline.
func (t Topology) Consumers() []ConsumerSpec {
	return []ConsumerSpec{
		{StreamRaw, ConsumerNormalizeDE, t.AckWait},
		{StreamNormalized, ConsumerTranslate, 2 * t.AckWait},
		{StreamTranslated, ConsumerNormalizeEN, t.AckWait},
		{StreamClean, ConsumerSink, t.AckWait},
	}
}

// Streams lists the stream configurations.
func (t Topology) Streams() []jetstream.StreamConfig {
	work := func(name, subj, desc string) jetstream.StreamConfig {
		return jetstream.StreamConfig{
			Name: name, Description: desc, Subjects: []string{subj},
			Retention: jetstream.WorkQueuePolicy, Storage: t.Storage, Replicas: t.Replicas,
			Duplicates: t.DuplicateWindow, Discard: jetstream.DiscardOld,
		}
	}
	limits := func(name, subj, desc string, age time.Duration) jetstream.StreamConfig {
		return jetstream.StreamConfig{
			Name: name, Description: desc, Subjects: []string{subj},
			Retention: jetstream.LimitsPolicy, Storage: t.Storage, Replicas: t.Replicas,
			Duplicates: t.DuplicateWindow, MaxAge: age, Discard: jetstream.DiscardOld,
		}
	}
	return []jetstream.StreamConfig{
		work(StreamRaw, "articles.raw.>", "ingested German articles awaiting normalization"),
		work(StreamNormalized, "articles.normalized.>", "normalized German awaiting translation"),
		work(StreamTranslated, "articles.translated.>", "translated articles awaiting English normalization"),
		limits(StreamClean, "articles.clean.>", "clean bilingual records: the live feed", t.CleanMaxAge),
		limits(StreamRejected, "articles.rejected.>", "inputs that never entered the pipeline, with reasons", t.ArchiveMaxAge),
		limits(StreamDLQ, "articles.dlq.>", "messages a stage gave up on, with reasons", t.ArchiveMaxAge),
		{
			Name: StreamAdvisories, Description: "MAX_DELIVERIES advisories of the pipeline consumers",
			Subjects:  t.advisorySubjects(),
			Retention: jetstream.WorkQueuePolicy, Storage: t.Storage, Replicas: t.Replicas,
			MaxAge: t.ArchiveMaxAge,
		},
	}
}

// Ensure creates or updates every stream, consumer and bucket. It is safe to
// call from any number of processes at once. Each request has its own
// deadline (RequestTimeout) and is repeated, with a pause, while the
// cluster cannot answer it yet (a lost answer during a meta-leader
// election, no peers online, a server error): every request is idempotent.
// It gives up when ctx ends or on an error that waiting cannot cure.
func (t Topology) Ensure(ctx context.Context, js jetstream.JetStream) error {
	for _, sc := range t.Streams() {
		if err := ensureOne(ctx, js.Conn(), func(ctx context.Context) error {
			_, err := js.CreateOrUpdateStream(ctx, sc)
			return err
		}); err != nil {
			return fmt.Errorf("stream %s: %w", sc.Name, err)
		}
	}
	for _, c := range t.Consumers() {
		if err := ensureOne(ctx, js.Conn(), func(ctx context.Context) error {
			_, err := js.CreateOrUpdateConsumer(ctx, c.Stream, t.consumerConfig(c))
			return err
		}); err != nil {
			return fmt.Errorf("consumer %s/%s: %w", c.Stream, c.Durable, err)
		}
	}
	for _, c := range t.Consumers() {
		name := MoverConsumer(c.Durable)
		cfg := jetstream.ConsumerConfig{
			Durable: name, AckPolicy: jetstream.AckExplicitPolicy, AckWait: t.AckWait,
			FilterSubject: AdvisoryPrefix + c.Stream + "." + c.Durable,
			MaxDeliver:    -1, MaxAckPending: 16,
		}
		if err := ensureOne(ctx, js.Conn(), func(ctx context.Context) error {
			_, err := js.CreateOrUpdateConsumer(ctx, StreamAdvisories, cfg)
			return err
		}); err != nil {
			return fmt.Errorf("consumer %s/%s: %w", StreamAdvisories, name, err)
		}
	}
	for _, kv := range []jetstream.KeyValueConfig{
		{Bucket: BucketRevisions, Description: "latest revision and content hash per article id", History: 1, Storage: t.Storage, Replicas: t.Replicas},
		{Bucket: BucketMemory, Description: "translation memory: engine, model and German segment to English", History: 1, Storage: t.Storage, Replicas: t.Replicas},
		{Bucket: BucketDeskNames, Description: "names added or corrected at the desk, applied by every normalize worker", History: 8, Storage: t.Storage, Replicas: t.Replicas},
		{Bucket: BucketDesk, Description: "desk actions (reviewed flags) and their audit log", History: 1, Storage: t.Storage, Replicas: t.Replicas},
	} {
		if err := ensureOne(ctx, js.Conn(), func(ctx context.Context) error {
			_, err := js.CreateOrUpdateKeyValue(ctx, kv)
			return err
		}); err != nil {
			return fmt.Errorf("kv %s: %w", kv.Bucket, err)
		}
	}
	return nil
}

// ErrNotPermitted is returned (wrapped) by Ensure when the server refused
// the account a set-up request: it may not manage streams or buckets.
var ErrNotPermitted = errors.New("the NATS account may not create or update the topology (run set-up with an admin user)")

// ensureOne runs one idempotent set-up request, each try bounded by
// RequestTimeout, until it succeeds, fails for good, or ctx ends. A request
// the server refused for lack of permission goes unanswered; the
// connection's last error tells it from a slow cluster.
func ensureOne(ctx context.Context, nc *nats.Conn, do func(context.Context) error) error {
	pause := 100 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, RequestTimeout)
		err := do(cctx)
		cancel()
		if err != nil && Transient(err) {
			if last := nc.LastError(); errors.Is(last, nats.ErrPermissionViolation) {
				return fmt.Errorf("%w: %w", ErrNotPermitted, last)
			}
		}
		if err == nil || !Transient(err) || ctx.Err() != nil {
			if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				return fmt.Errorf("%w (last try: %w)", ctx.Err(), err)
			}
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last try: %w)", ctx.Err(), err)
		case <-time.After(pause):
		}
		pause = min(2*pause, 2*time.Second)
	}
}

// errCodeNoSuitablePeers is the server's JSClusterNoPeersErrF.
const errCodeNoSuitablePeers = 10005

// Transient reports whether a JetStream API error may go away by waiting:
// no answer in time, no server answering, or a server-side error (the
// cluster has no leader yet, too few peers are online, a stream is
// offline while its leader moves). Client mistakes (a bad or conflicting
// configuration, 4xx) are not.
func Transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrConnectionReconnecting) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		// "No suitable peers" (10005) while a forming cluster has not yet
		// seen every peer online; it also answers a request for more
		// replicas than servers, which then ends with ctx.
		return apiErr.Code >= 500 || apiErr.ErrorCode == jetstream.ErrorCode(errCodeNoSuitablePeers)
	}
	return false
}

func (t Topology) consumerConfig(c ConsumerSpec) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       c.Durable,
		Description:   "dewire " + c.Durable + " workers (all replicas bind this consumer)",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.AckWait,
		MaxDeliver:    t.MaxDeliver,
		MaxAckPending: t.MaxAckPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
}

// ConsumerFor returns the spec of a durable pipeline consumer.
func (t Topology) ConsumerFor(durable string) (ConsumerSpec, bool) {
	for _, c := range t.Consumers() {
		if c.Durable == durable {
			return c, true
		}
	}
	return ConsumerSpec{}, false
}

// Consumer binds the named durable consumer, which Ensure must have created.
func Consumer(ctx context.Context, js jetstream.JetStream, stream, durable string) (jetstream.Consumer, error) {
	c, err := js.Consumer(ctx, stream, durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("consumer %s/%s does not exist: run `dewire setup` first: %w", stream, durable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("consumer %s/%s: %w", stream, durable, err)
	}
	return c, nil
}

// AdvisoryPrefix is the subject prefix of the server's MAX_DELIVERIES advisories.
const AdvisoryPrefix = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."

func (t Topology) advisorySubjects() []string {
	var out []string
	for _, c := range t.Consumers() {
		out = append(out, AdvisoryPrefix+c.Stream+"."+c.Durable)
	}
	return out
}
