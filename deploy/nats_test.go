package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/tm"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The topology of DESIGN §4; the ScaledObject checks use it too.
type streamSpec struct {
	name, subjects string
	retention      jetstream.RetentionPolicy
	maxAge         time.Duration
	consumers      []string
}

var topology = []streamSpec{
	{"ARTICLES_RAW", "articles.raw.>", jetstream.WorkQueuePolicy, 0, []string{"normalize-de"}},
	{"ARTICLES_NORMALIZED", "articles.normalized.>", jetstream.WorkQueuePolicy, 0, []string{"translate"}},
	{"ARTICLES_TRANSLATED", "articles.translated.>", jetstream.WorkQueuePolicy, 0, []string{"normalize-en"}},
	{"ARTICLES_CLEAN", "articles.clean.>", jetstream.LimitsPolicy, 7 * 24 * time.Hour, []string{"sink"}},
	{"ARTICLES_REJECTED", "articles.rejected.>", jetstream.LimitsPolicy, 30 * 24 * time.Hour, nil},
	{"ARTICLES_DLQ", "articles.dlq.>", jetstream.LimitsPolicy, 30 * 24 * time.Hour, nil},
}

var kvBuckets = []string{"dewire_tm", "dewire_revisions"}

// roles are the NATS users of accounts.conf, with the environment variable
// that carries each password.
var roles = map[string]string{
	"admin":     "NATS_ADMIN_PASSWORD",
	"ingest":    "NATS_INGEST_PASSWORD",
	"normalize": "NATS_NORMALIZE_PASSWORD",
	"translate": "NATS_TRANSLATE_PASSWORD",
	"sink":      "NATS_SINK_PASSWORD",
	"desk":      "NATS_DESK_PASSWORD",
	"sys":       "NATS_SYS_PASSWORD", // the system account's user
}

// natsAccount is the account of accounts.conf; KEDA's "account" must name it.
const natsAccount = "DEWIRE"

// setPasswords puts a random password for every role into the environment
// and returns them by user.
func setPasswords(t *testing.T) map[string]string {
	t.Helper()
	pw := make(map[string]string)
	for user, env := range roles {
		b := make([]byte, 12)
		rand.Read(b)
		pw[user] = hex.EncodeToString(b)
		t.Setenv(env, pw[user])
	}
	return pw
}

// startSingle runs nats-single.conf (and so accounts.conf) in-process, on a
// free port with its store in a temporary directory.
func startSingle(t *testing.T) *server.Server {
	t.Helper()
	opts, err := server.ProcessConfigFile("nats/nats-single.conf")
	if err != nil {
		t.Fatalf("nats-single.conf: %v", err)
	}
	if !opts.JetStream || !opts.SyncAlways {
		t.Fatalf("nats-single.conf: jetstream=%v sync_interval always=%v, want both", opts.JetStream, opts.SyncAlways)
	}
	opts.Host, opts.Port = "127.0.0.1", server.RANDOM_PORT
	opts.HTTPHost, opts.HTTPPort = "", 0
	opts.StoreDir = t.TempDir()
	opts.NoLog, opts.NoSigs = true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// roleConn is a connection as one role, recording the permission errors the
// server sends back asynchronously.
type roleConn struct {
	nc *nats.Conn
	js jetstream.JetStream

	mu         sync.Mutex
	violations []string
	changed    chan struct{}
}

func connectAs(t *testing.T, s *server.Server, user, password string) *roleConn {
	t.Helper()
	rc := &roleConn{changed: make(chan struct{}, 1)}
	opts := []nats.Option{
		nats.UserInfo(user, password),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if !errors.Is(err, nats.ErrPermissionViolation) {
				return
			}
			rc.mu.Lock()
			rc.violations = append(rc.violations, err.Error())
			rc.mu.Unlock()
			select {
			case rc.changed <- struct{}{}:
			default:
			}
		}),
	}
	if user != "admin" {
		opts = append(opts, nats.CustomInboxPrefix("_INBOX."+user))
	}
	nc, err := nats.Connect(s.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream as %s: %v", user, err)
	}
	rc.nc, rc.js = nc, js
	return rc
}

// denied waits for the server to report a permissions violation on a
// subject matching the pattern.
func (rc *roleConn) denied(t *testing.T, subject string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		rc.mu.Lock()
		for _, v := range rc.violations {
			if subjectMatches(subject, quotedSubject(v)) {
				rc.mu.Unlock()
				return
			}
		}
		seen := append([]string(nil), rc.violations...)
		rc.mu.Unlock()
		select {
		case <-rc.changed:
		case <-deadline:
			t.Fatalf("no permissions violation for %q; saw %q", subject, seen)
		}
	}
}

// quotedSubject extracts the subject a permissions violation names.
func quotedSubject(violation string) string {
	_, rest, ok := strings.Cut(violation, `"`)
	if !ok {
		return ""
	}
	subject, _, _ := strings.Cut(rest, `"`)
	return subject
}

// subjectMatches reports whether subject matches pattern, with the NATS
// wildcards "*" (one token) and ">" (the rest).
func subjectMatches(pattern, subject string) bool {
	pt, st := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, p := range pt {
		switch {
		case p == ">":
			return len(st) > i
		case i >= len(st):
			return false
		case p != "*" && p != st[i]:
			return false
		}
	}
	return len(pt) == len(st)
}

// createTopology creates the streams, consumers and KV buckets as admin,
// through the same code path as `dewire setup`, and checks that the table
// above (which the ScaledObject checks use) agrees with it.
func createTopology(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topo := bus.DefaultTopology()
	if err := topo.Ensure(ctx, js); err != nil {
		t.Fatalf("admin runs setup: %v", err)
	}
	for _, st := range topology {
		for _, c := range st.consumers {
			if spec, ok := topo.ConsumerFor(c); !ok || spec.Stream != st.name {
				t.Errorf("consumer %s/%s of the deploy table is not in the topology", st.name, c)
			}
		}
	}
	for _, b := range kvBuckets {
		if _, err := js.KeyValue(ctx, b); err != nil {
			t.Errorf("KV %s: %v", b, err)
		}
	}
}

// A step is one thing a role tries; allowed steps must succeed, denied ones
// must fail with a permissions violation on the named subject.
type step struct {
	name    string
	allowed bool
	subject string // for denied steps: the subject the server refuses
	run     func(ctx context.Context, rc *roleConn) error
}

func publish(subject string) func(context.Context, *roleConn) error {
	return func(ctx context.Context, rc *roleConn) error {
		_, err := rc.js.Publish(ctx, subject, []byte(`{"schema":"dewire.article/v1"}`))
		return err
	}
}

// pull fetches one message from a durable consumer and double-acks it.
func pull(stream, consumer string) func(context.Context, *roleConn) error {
	return func(ctx context.Context, rc *roleConn) error {
		c, err := rc.js.Consumer(ctx, stream, consumer)
		if err != nil {
			return fmt.Errorf("bind %s/%s: %w", stream, consumer, err)
		}
		msg, err := c.Next(jetstream.FetchMaxWait(3 * time.Second))
		if err != nil {
			return fmt.Errorf("next: %w", err)
		}
		if err := msg.DoubleAck(ctx); err != nil {
			return fmt.Errorf("ack: %w", err)
		}
		return nil
	}
}

// pullIdle binds a consumer and pulls from it, expecting nothing to be
// there: a refused pull shows as a permissions violation, which the harness
// reports for allowed steps.
func pullIdle(stream, consumer string) func(context.Context, *roleConn) error {
	return func(ctx context.Context, rc *roleConn) error {
		c, err := rc.js.Consumer(ctx, stream, consumer)
		if err != nil {
			return fmt.Errorf("bind %s/%s: %w", stream, consumer, err)
		}
		b, err := c.Fetch(1, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		for range b.Messages() {
		}
		if err := b.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("fetch: %w", err)
		}
		return nil
	}
}

// readOrdered reads one message from stream with an ordered consumer.
func readOrdered(stream string) func(context.Context, *roleConn) error {
	return func(ctx context.Context, rc *roleConn) error {
		c, err := rc.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
		if err != nil {
			return fmt.Errorf("ordered consumer on %s: %w", stream, err)
		}
		if _, err := c.Next(jetstream.FetchMaxWait(3 * time.Second)); err != nil {
			return fmt.Errorf("next: %w", err)
		}
		return nil
	}
}

func kvPutGet(bucket string) func(context.Context, *roleConn) error {
	return func(ctx context.Context, rc *roleConn) error {
		kv, err := rc.js.KeyValue(ctx, bucket)
		if err != nil {
			return fmt.Errorf("bind %s: %w", bucket, err)
		}
		if _, err := kv.Put(ctx, "k1", []byte("v")); err != nil {
			return fmt.Errorf("put: %w", err)
		}
		if _, err := kv.Get(ctx, "k1"); err != nil {
			return fmt.Errorf("get: %w", err)
		}
		return nil
	}
}

// translationMemory uses the memory as the translate worker does: bind the
// bucket, write and read a batch of sentences.
func translationMemory(ctx context.Context, rc *roleConn) error {
	m, err := tm.NewKV(ctx, rc.js, "dewire_tm")
	if err != nil {
		return err
	}
	k := mt.MemoryKey("deepl", "EN-US", "Ein Satz.")
	if err := m.PutMany(ctx, map[string]string{k: "A sentence."}); err != nil {
		return err
	}
	got, err := m.GetMany(ctx, []string{k})
	if err != nil {
		return err
	}
	if got[k] != "A sentence." {
		return fmt.Errorf("batch get returned %q", got[k])
	}
	return nil
}

func coreSubscribe(subject string) func(context.Context, *roleConn) error {
	return func(ctx context.Context, rc *roleConn) error {
		sub, err := rc.nc.SubscribeSync(subject)
		if err != nil {
			return err
		}
		defer sub.Unsubscribe()
		// The server answers a refused SUB asynchronously; a round trip makes sure it has.
		return rc.nc.FlushWithContext(ctx)
	}
}

func rawRequest(subject string) func(context.Context, *roleConn) error {
	return func(ctx context.Context, rc *roleConn) error {
		_, err := rc.nc.RequestWithContext(ctx, subject, []byte(`{}`))
		return err
	}
}

func TestNATSRolesHaveLeastPrivilege(t *testing.T) {
	pw := setPasswords(t)
	s := startSingle(t)
	admin := connectAs(t, s, "admin", pw["admin"])
	createTopology(t, admin.js)

	// Something to pull for each consumer, and to read from the clean feed.
	seed := func(t *testing.T, subject string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := admin.js.Publish(ctx, subject, []byte(`{}`)); err != nil {
			t.Fatalf("admin seeds %s: %v", subject, err)
		}
	}

	tests := []struct {
		user  string
		seed  []string
		steps []step
	}{
		{
			user: "ingest",
			steps: []step{
				{name: "publishes a raw article", allowed: true, run: publish("articles.raw.agency")},
				{name: "publishes a rejection", allowed: true, run: publish("articles.rejected.agency")},
				{name: "uses the revisions KV", allowed: true, run: kvPutGet("dewire_revisions")},
				{name: "cannot publish a clean article", subject: "articles.clean.agency", run: publish("articles.clean.agency")},
				{name: "cannot touch the translation memory", subject: "$JS.API.STREAM.INFO.KV_dewire_tm", run: kvPutGet("dewire_tm")},
				{name: "cannot create a stream", subject: "$JS.API.STREAM.CREATE.X", run: rawRequest("$JS.API.STREAM.CREATE.X")},
			},
		},
		{
			user: "normalize",
			seed: []string{"articles.raw.agency", "articles.translated.agency"},
			steps: []step{
				{name: "pulls from ARTICLES_RAW via normalize-de", allowed: true, run: pull("ARTICLES_RAW", "normalize-de")},
				{name: "pulls from ARTICLES_TRANSLATED via normalize-en", allowed: true, run: pull("ARTICLES_TRANSLATED", "normalize-en")},
				{name: "publishes a normalized article", allowed: true, run: publish("articles.normalized.agency")},
				{name: "publishes a clean article", allowed: true, run: publish("articles.clean.agency")},
				{name: "dead-letters a message", allowed: true, run: publish("articles.dlq.normalize-de")},
				{name: "runs the DLQ mover of normalize-de", allowed: true, run: pullIdle("DEWIRE_ADVISORIES", "dlq-mover-normalize-de")},
				{name: "runs the DLQ mover of normalize-en", allowed: true, run: pullIdle("DEWIRE_ADVISORIES", "dlq-mover-normalize-en")},
				{name: "cannot run the translate DLQ mover", subject: "$JS.API.CONSUMER.INFO.DEWIRE_ADVISORIES.dlq-mover-translate", run: pullIdle("DEWIRE_ADVISORIES", "dlq-mover-translate")},
				{name: "cannot publish a raw article", subject: "articles.raw.agency", run: publish("articles.raw.agency")},
				{name: "cannot publish a translation", subject: "articles.translated.agency", run: publish("articles.translated.agency")},
				{name: "cannot pull the translate consumer", subject: "$JS.API.CONSUMER.INFO.ARTICLES_NORMALIZED.translate", run: pull("ARTICLES_NORMALIZED", "translate")},
				{name: "cannot read ARTICLES_DLQ", subject: "$JS.API.CONSUMER.CREATE.ARTICLES_DLQ.*", run: readOrdered("ARTICLES_DLQ")},
				{name: "cannot read ARTICLES_DLQ by sequence", subject: "$JS.API.STREAM.MSG.GET.ARTICLES_DLQ", run: rawRequest("$JS.API.STREAM.MSG.GET.ARTICLES_DLQ")},
				{name: "cannot subscribe to raw articles", subject: "articles.raw.>", run: coreSubscribe("articles.raw.>")},
				{name: "cannot read another role's inbox", subject: "_INBOX.translate.>", run: coreSubscribe("_INBOX.translate.>")},
				{name: "cannot delete a stream", subject: "$JS.API.STREAM.DELETE.ARTICLES_RAW", run: rawRequest("$JS.API.STREAM.DELETE.ARTICLES_RAW")},
			},
		},
		{
			user: "translate",
			seed: []string{"articles.normalized.agency"},
			steps: []step{
				{name: "pulls from ARTICLES_NORMALIZED via translate", allowed: true, run: pull("ARTICLES_NORMALIZED", "translate")},
				{name: "publishes a translation", allowed: true, run: publish("articles.translated.agency")},
				{name: "dead-letters a message", allowed: true, run: publish("articles.dlq.translate")},
				{name: "uses the translation memory", allowed: true, run: kvPutGet("dewire_tm")},
				{name: "runs the DLQ mover of its consumer", allowed: true, run: pullIdle("DEWIRE_ADVISORIES", "dlq-mover-translate")},
				{name: "reads and writes the memory in batches", allowed: true, run: translationMemory},
				{name: "cannot publish a clean article", subject: "articles.clean.agency", run: publish("articles.clean.agency")},
				{name: "cannot touch the revisions KV", subject: "$JS.API.STREAM.INFO.KV_dewire_revisions", run: kvPutGet("dewire_revisions")},
				{name: "cannot pull the normalize-de consumer", subject: "$JS.API.CONSUMER.INFO.ARTICLES_RAW.normalize-de", run: pull("ARTICLES_RAW", "normalize-de")},
			},
		},
		{
			user: "sink",
			seed: []string{"articles.clean.agency"},
			steps: []step{
				{name: "pulls from ARTICLES_CLEAN via sink", allowed: true, run: pull("ARTICLES_CLEAN", "sink")},
				{name: "dead-letters a message", allowed: true, run: publish("articles.dlq.sink")},
				{name: "runs the DLQ mover of its consumer", allowed: true, run: pullIdle("DEWIRE_ADVISORIES", "dlq-mover-sink")},
				{name: "cannot publish a clean article", subject: "articles.clean.agency", run: publish("articles.clean.agency")},
				{name: "cannot delete from the clean feed", subject: "$JS.API.STREAM.MSG.DELETE.ARTICLES_CLEAN", run: rawRequest("$JS.API.STREAM.MSG.DELETE.ARTICLES_CLEAN")},
			},
		},
		{
			user: "desk",
			seed: []string{"articles.clean.agency"},
			steps: []step{
				{name: "reads ARTICLES_CLEAN with an ordered consumer", allowed: true, run: readOrdered("ARTICLES_CLEAN")},
				{name: "cannot publish a clean article", subject: "articles.clean.agency", run: publish("articles.clean.agency")},
				{name: "cannot publish to the DLQ", subject: "articles.dlq.desk", run: publish("articles.dlq.desk")},
				{name: "cannot pull from the sink's durable", subject: "$JS.API.CONSUMER.MSG.NEXT.ARTICLES_CLEAN.sink", run: rawRequest("$JS.API.CONSUMER.MSG.NEXT.ARTICLES_CLEAN.sink")},
				{name: "cannot delete the sink's durable", subject: "$JS.API.CONSUMER.DELETE.ARTICLES_CLEAN.sink", run: func(ctx context.Context, rc *roleConn) error {
					return rc.js.DeleteConsumer(ctx, "ARTICLES_CLEAN", "sink")
				}},
				{name: "cannot create a durable consumer", subject: "$JS.API.CONSUMER.DURABLE.CREATE.ARTICLES_CLEAN.mine", run: rawRequest("$JS.API.CONSUMER.DURABLE.CREATE.ARTICLES_CLEAN.mine")},
				{name: "cannot read ARTICLES_DLQ", subject: "$JS.API.CONSUMER.CREATE.ARTICLES_DLQ.*", run: readOrdered("ARTICLES_DLQ")},
				{name: "cannot subscribe to the articles subjects", subject: "articles.>", run: coreSubscribe("articles.>")},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			for _, subj := range tc.seed {
				seed(t, subj)
			}
			rc := connectAs(t, s, tc.user, pw[tc.user])
			for _, st := range tc.steps {
				t.Run(st.name, func(t *testing.T) {
					timeout := 5 * time.Second
					if !st.allowed {
						timeout = 500 * time.Millisecond // a refused request is never answered
					}
					ctx, cancel := context.WithTimeout(context.Background(), timeout)
					defer cancel()
					err := st.run(ctx, rc)
					if st.allowed {
						if err != nil {
							t.Fatalf("want allowed, got %v", err)
						}
						// Allowed steps come first: none of them may have
						// tripped a refusal along the way.
						if err := rc.nc.Flush(); err != nil {
							t.Fatal(err)
						}
						rc.mu.Lock()
						defer rc.mu.Unlock()
						if len(rc.violations) > 0 {
							t.Fatalf("allowed step caused permissions violations: %q", rc.violations)
						}
						return
					}
					rc.denied(t, st.subject)
				})
			}
		})
	}

	t.Run("the sink's durable survives the desk", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := admin.js.Consumer(ctx, "ARTICLES_CLEAN", "sink"); err != nil {
			t.Fatalf("sink consumer: %v", err)
		}
	})

	t.Run("a wrong password is refused", func(t *testing.T) {
		nc, err := nats.Connect(s.ClientURL(), nats.UserInfo("normalize", "wrong"), nats.MaxReconnects(0))
		if err == nil {
			nc.Close()
			t.Fatal("connected with a wrong password")
		}
	})
}
