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

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/mt"
	pnorm "github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/desk"
	"github.com/dewire/dewire/workers/ingest"
	"github.com/dewire/dewire/workers/normalize"
	"github.com/dewire/dewire/workers/stage"
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

var kvBuckets = []string{"dewire_tm", "dewire_revisions", "dewire_desk_names", "dewire_desk"}

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
func startSingle(t *testing.T, tweaks ...func(*server.Options)) *server.Server {
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
	for _, tweak := range tweaks {
		tweak(opts)
	}
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
	return kvPutGetKey(bucket, "k1")
}

// kvPutGetKey binds bucket, puts key and reads it back.
func kvPutGetKey(bucket, key string) func(context.Context, *roleConn) error {
	return func(ctx context.Context, rc *roleConn) error {
		kv, err := rc.js.KeyValue(ctx, bucket)
		if err != nil {
			return fmt.Errorf("bind %s: %w", bucket, err)
		}
		if _, err := kv.Put(ctx, key, []byte("v")); err != nil {
			return fmt.Errorf("put: %w", err)
		}
		if _, err := kv.Get(ctx, key); err != nil {
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

// watchUntilLive binds bucket and watches keys until the watcher's
// initial-values marker (a nil entry) arrives: the ordered push consumer a
// KV watch is, delivered to the role's inbox, with flow control replies once
// the initial values pass the server's flow-control window.
func watchUntilLive(bucket, keys string) func(context.Context, *roleConn) error {
	return func(ctx context.Context, rc *roleConn) error {
		kv, err := rc.js.KeyValue(ctx, bucket)
		if err != nil {
			return fmt.Errorf("bind %s: %w", bucket, err)
		}
		w, err := kv.Watch(ctx, keys)
		if err != nil {
			return fmt.Errorf("watch %s %s: %w", bucket, keys, err)
		}
		defer w.Stop()
		n := 0
		for {
			select {
			case <-ctx.Done():
				return fmt.Errorf("watch %s %s: %d entries, no initial-values marker: %w", bucket, keys, n, ctx.Err())
			case e, ok := <-w.Updates():
				if !ok {
					return fmt.Errorf("watch %s %s ended after %d entries", bucket, keys, n)
				}
				if e == nil {
					if n == 0 {
						return fmt.Errorf("watch %s %s: no initial values", bucket, keys)
					}
					return nil
				}
				n++
			}
		}
	}
}

// kvPut binds bucket and puts one key.
func kvPut(bucket, key string) func(context.Context, *roleConn) error {
	return func(ctx context.Context, rc *roleConn) error {
		kv, err := rc.js.KeyValue(ctx, bucket)
		if err != nil {
			return fmt.Errorf("bind %s: %w", bucket, err)
		}
		if _, err := kv.Put(ctx, key, []byte(`{}`)); err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		return nil
	}
}

// watchDeskNames runs the normalize worker's watch of the desk's names
// (normalize.WatchDeskNames) until the name the desk added is in use.
func watchDeskNames(ctx context.Context, rc *roleConn) error {
	var names pnorm.DeskNames
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- normalize.WatchDeskNames(wctx, stage.Env{JS: rc.js}, &names) }()
	defer func() {
		cancel()
		<-done
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for names.Len() == 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("the desk's names never reached the worker: %w", ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// deskNames uses the names bucket as the desk app does: add a name, list them.
func deskNames(ctx context.Context, rc *roleConn) error {
	d, err := desk.New(rc.js, desk.Options{})
	if err != nil {
		return err
	}
	key, err := d.PutName(ctx, "editor", desk.Name{DE: "Olaf Scholz", EN: "Olaf Scholz", Kind: "person"})
	if err != nil {
		return err
	}
	got, err := d.Names(ctx)
	if err != nil {
		return err
	}
	for _, n := range got {
		if n.EN == "Olaf Scholz" {
			return nil
		}
	}
	return fmt.Errorf("names list %v lacks the name put as %s", got, key)
}

// recordBySeq reads the first record of stream by sequence, as the desk
// opens an article.
func recordBySeq(stream string) func(context.Context, *roleConn) error {
	return func(ctx context.Context, rc *roleConn) error {
		s, err := rc.js.Stream(ctx, stream)
		if err != nil {
			return fmt.Errorf("bind %s: %w", stream, err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			return fmt.Errorf("info %s: %w", stream, err)
		}
		if _, err := s.GetMsg(ctx, info.State.FirstSeq); err != nil {
			return fmt.Errorf("get %s #%d: %w", stream, info.State.FirstSeq, err)
		}
		return nil
	}
}

// reprocessLike sends two revisions of one article into the pipeline as
// the desk's Reprocess does: each numbered in the revisions bucket (the
// second one reads the first and updates it), published on
// articles.raw.desk, then confirmed.
func reprocessLike(ctx context.Context, rc *roleConn) error {
	revs, err := ingest.NewKVRevisions(ctx, rc.js, bus.BucketRevisions)
	if err != nil {
		return err
	}
	id := "deploy-reprocess-" + randomHex(4)
	for want := 1; want <= 2; want++ {
		rev, dup, err := revs.Assign(ctx, id, randomHex(32))
		if err != nil {
			return fmt.Errorf("assign: %w", err)
		}
		if dup || rev != want {
			return fmt.Errorf("assign %s: rev %d (duplicate %v), want a new rev %d", id, rev, dup, want)
		}
		if _, err := rc.js.Publish(ctx, "articles.raw.desk", []byte(`{"schema":"dewire.article/v1"}`)); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		if err := revs.Confirm(ctx, id, rev); err != nil {
			return fmt.Errorf("confirm: %w", err)
		}
	}
	return nil
}

// deskApp runs the desk app over the clean feed (desk.Run: the ordered
// consumer and the watch of the reviewed flags) and takes every action an
// editor can on the record seeded there: open it by sequence, mark a flag
// reviewed, reprocess it.
func deskApp(id string) func(context.Context, *roleConn) error {
	return func(ctx context.Context, rc *roleConn) error {
		d, err := desk.New(rc.js, desk.Options{})
		if err != nil {
			return err
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- d.Run(rctx) }()
		defer func() {
			cancel()
			<-done
		}()
		select {
		case <-d.CaughtUp():
		case err := <-done:
			done <- err
			return fmt.Errorf("desk stopped before catching up: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("desk never caught up with the clean feed: %w", ctx.Err())
		}
		if _, _, err := d.Record(ctx, id, 0); err != nil {
			return err
		}
		if err := d.Review(ctx, "editor", id, 0, 0); err != nil {
			return err
		}
		rev, err := d.Reprocess(ctx, "editor", id)
		if err != nil {
			return err
		}
		if rev != 2 {
			return fmt.Errorf("reprocessing revision 1 gave revision %d, want 2", rev)
		}
		return nil
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
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

// runSteps runs each step as a subtest: allowed steps must succeed without
// any permissions violation, refused ones must be refused on their subject.
func runSteps(t *testing.T, rc *roleConn, steps []step) {
	t.Helper()
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			timeout := 10 * time.Second
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
}

// fillDeskBuckets fills the desk's buckets with more initial values than
// the server's flow-control window (half of 2 MiB), so a watch has to answer
// flow control as it does in production, and adds a name for the normalize
// workers.
func fillDeskBuckets(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v := make([]byte, 64<<10)
	for bucket, prefix := range map[string]string{bus.BucketDeskNames: "filler.", bus.BucketDesk: "review."} {
		kv, err := js.KeyValue(ctx, bucket)
		if err != nil {
			t.Fatalf("admin binds %s: %v", bucket, err)
		}
		for i := range 48 {
			if _, err := kv.Put(ctx, fmt.Sprintf("%sfiller-%d", prefix, i), v); err != nil {
				t.Fatalf("admin fills %s: %v", bucket, err)
			}
		}
	}
	kv, err := js.KeyValue(ctx, bus.BucketDeskNames)
	if err != nil {
		t.Fatalf("admin binds %s: %v", bus.BucketDeskNames, err)
	}
	if _, err := kv.Put(ctx, normalize.DeskNamePrefix+"angela-merkel", []byte(`{"de":"Angela Merkel","en":"Angela Merkel","kind":"person"}`)); err != nil {
		t.Fatalf("admin adds a desk name: %v", err)
	}
}

// seedDeskRecord publishes a clean record with one flag, for the desk to
// open, review and reprocess, and its revision as ingest would have kept it.
func seedDeskRecord(t *testing.T, js jetstream.JetStream, id string) {
	t.Helper()
	de := article.Text{Title: "Ein Titel", Paragraphs: []string{"Ein Satz."}}
	a := &article.Article{Schema: article.Schema, ID: id, Rev: 1, Hash: article.ContentHash(&de),
		Source: article.Source{Name: "agency"}, Lang: article.Lang{Code: "de", Confidence: 1}, DE: de,
		Flags: []article.Flag{{Stage: article.StageIngest, Code: "test.flag", Message: "a flag to review"}}}
	out, err := stage.ArticleOut(bus.Clean, a)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: out.Subject, Data: out.Data, Header: out.Header}); err != nil {
		t.Fatalf("admin seeds a clean record: %v", err)
	}
	revs, err := ingest.NewKVRevisions(ctx, js, bus.BucketRevisions)
	if err != nil {
		t.Fatal(err)
	}
	if rev, _, err := revs.Assign(ctx, id, a.Hash); err != nil || rev != 1 {
		t.Fatalf("admin assigns %s: rev %d, %v", id, rev, err)
	}
	if err := revs.Confirm(ctx, id, 1); err != nil {
		t.Fatalf("admin confirms %s: %v", id, err)
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

	fillDeskBuckets(t, admin.js)

	deskID := "deploy-desk-" + randomHex(4)
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
				{name: "watches the desk's names to their initial-values marker", allowed: true, run: watchUntilLive(bus.BucketDeskNames, ">")},
				{name: "applies the desk's names (WatchDeskNames)", allowed: true, run: watchDeskNames},
				{name: "cannot write the desk's names", subject: "$KV.dewire_desk_names.name.x", run: kvPut(bus.BucketDeskNames, "name.x")},
				{name: "cannot write the desk's bucket", subject: "$KV.dewire_desk.review.x", run: publish("$KV.dewire_desk.review.x")},
				{name: "cannot watch the desk's bucket", subject: "$JS.API.STREAM.INFO.KV_dewire_desk", run: watchUntilLive(bus.BucketDesk, "review.>")},
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
				{name: "reads a clean record by sequence", allowed: true, run: recordBySeq("ARTICLES_CLEAN")},
				{name: "puts and gets a reviewed flag in its bucket", allowed: true, run: kvPutGetKey(bus.BucketDesk, "review.deploy.1.0")},
				{name: "watches the reviewed flags to their initial-values marker", allowed: true, run: watchUntilLive(bus.BucketDesk, "review.>")},
				{name: "adds and lists names (PutName, Names)", allowed: true, run: deskNames},
				{name: "publishes a new revision as Reprocess does", allowed: true, run: reprocessLike},
				{name: "runs the desk app: opens, reviews and reprocesses a record", allowed: true, run: deskApp(deskID)},
				{name: "cannot publish a normalized article", subject: "articles.normalized.desk", run: publish("articles.normalized.desk")},
				{name: "cannot publish a translation", subject: "articles.translated.desk", run: publish("articles.translated.desk")},
				{name: "cannot delete a stream", subject: "$JS.API.STREAM.DELETE.ARTICLES_CLEAN", run: rawRequest("$JS.API.STREAM.DELETE.ARTICLES_CLEAN")},
				{name: "cannot delete its bucket", subject: "$JS.API.STREAM.DELETE.KV_dewire_desk", run: func(ctx context.Context, rc *roleConn) error {
					return rc.js.DeleteKeyValue(ctx, bus.BucketDesk)
				}},
				{name: "cannot purge its bucket", subject: "$JS.API.STREAM.PURGE.KV_dewire_desk", run: rawRequest("$JS.API.STREAM.PURGE.KV_dewire_desk")},
				{name: "cannot write other keys of its bucket", subject: "$KV.dewire_desk.x", run: kvPut(bus.BucketDesk, "x")},
				{name: "cannot touch the translation memory", subject: "$JS.API.STREAM.INFO.KV_dewire_tm", run: kvPutGet("dewire_tm")},
				{name: "cannot delete from the raw work queue", subject: "$JS.API.STREAM.MSG.DELETE.ARTICLES_RAW", run: rawRequest("$JS.API.STREAM.MSG.DELETE.ARTICLES_RAW")},
				{name: "cannot publish a clean article", subject: "articles.clean.agency", run: publish("articles.clean.agency")},
				{name: "cannot publish to the DLQ", subject: "articles.dlq.desk", run: publish("articles.dlq.desk")},
				{name: "cannot pull from the sink's durable", subject: "$JS.API.CONSUMER.MSG.NEXT.ARTICLES_CLEAN.sink", run: rawRequest("$JS.API.CONSUMER.MSG.NEXT.ARTICLES_CLEAN.sink")},
				{name: "cannot delete the sink's durable", subject: "$JS.API.CONSUMER.DELETE.ARTICLES_CLEAN.sink", run: func(ctx context.Context, rc *roleConn) error {
					return rc.js.DeleteConsumer(ctx, "ARTICLES_CLEAN", "sink")
				}},
				{name: "cannot create a durable consumer", subject: "$JS.API.CONSUMER.DURABLE.CREATE.ARTICLES_CLEAN.mine", run: rawRequest("$JS.API.CONSUMER.DURABLE.CREATE.ARTICLES_CLEAN.mine")},
				{name: "cannot read ARTICLES_DLQ", subject: "$JS.API.CONSUMER.CREATE.ARTICLES_DLQ.*", run: readOrdered("ARTICLES_DLQ")},
				{name: "cannot read ARTICLES_DLQ by sequence", subject: "$JS.API.STREAM.MSG.GET.ARTICLES_DLQ", run: rawRequest("$JS.API.STREAM.MSG.GET.ARTICLES_DLQ")},
				{name: "cannot subscribe to the articles subjects", subject: "articles.>", run: coreSubscribe("articles.>")},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			for _, subj := range tc.seed {
				seed(t, subj)
			}
			if tc.user == "desk" {
				seedDeskRecord(t, admin.js, deskID)
			}
			rc := connectAs(t, s, tc.user, pw[tc.user])
			runSteps(t, rc, tc.steps)
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

// With the server's v2 ack and flow-control format (the feature flag
// js_ack_fc_v2, which a server version may switch on), the workers still
// acknowledge and the KV watches still answer flow control.
func TestNATSRolesWithV2AckAndFlowControl(t *testing.T) {
	pw := setPasswords(t)
	s := startSingle(t, func(o *server.Options) {
		o.FeatureFlags = map[string]bool{server.FeatureFlagJsAckFormatV2: true}
	})
	admin := connectAs(t, s, "admin", pw["admin"])
	createTopology(t, admin.js)
	fillDeskBuckets(t, admin.js)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := admin.js.Publish(ctx, "articles.raw.agency", []byte(`{}`)); err != nil {
		t.Fatalf("admin seeds ARTICLES_RAW: %v", err)
	}
	t.Run("normalize", func(t *testing.T) {
		runSteps(t, connectAs(t, s, "normalize", pw["normalize"]), []step{
			{name: "pulls and acks via normalize-de", allowed: true, run: pull("ARTICLES_RAW", "normalize-de")},
			{name: "watches the desk's names to their initial-values marker", allowed: true, run: watchUntilLive(bus.BucketDeskNames, ">")},
		})
	})
	t.Run("desk", func(t *testing.T) {
		runSteps(t, connectAs(t, s, "desk", pw["desk"]), []step{
			{name: "watches the reviewed flags to their initial-values marker", allowed: true, run: watchUntilLive(bus.BucketDesk, "review.>")},
		})
	})
}
