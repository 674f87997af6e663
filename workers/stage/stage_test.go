package stage_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/stage"
)

// topology is the dewire topology with a short AckWait and few deliveries,
// so failure paths are quick.
func topology(replicas int) bus.Topology {
	topo := bus.DefaultTopology()
	topo.AckWait = time.Second
	topo.MaxDeliver = 3
	topo.Replicas = replicas
	return topo
}

func ensure(t *testing.T, js jetstream.JetStream, replicas int) jetstream.JetStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := topology(replicas).Ensure(ctx, js); err != nil {
		t.Fatal(err)
	}
	return js
}

// withJS starts a server with the topology and returns it and its JetStream.
func withJS(t *testing.T, opts ...natstest.Option) (*natstest.Node, jetstream.JetStream) {
	t.Helper()
	n := natstest.Server(t, opts...)
	return n, ensure(t, n.JetStream(), 1)
}

// onBoth runs f against a single server with replicas 1 and against a
// three-node cluster with replicas 3.
func onBoth(t *testing.T, f func(t *testing.T, js jetstream.JetStream), opts ...natstest.Option) {
	t.Run("replicas=1", func(t *testing.T) {
		_, js := withJS(t, opts...)
		f(t, js)
	})
	t.Run("replicas=3", func(t *testing.T) {
		f(t, ensure(t, natstest.Cluster(t, 3, opts...).JetStream(), 3))
	})
}

func publishN(t *testing.T, js jetstream.JetStream, n int) {
	t.Helper()
	for i := range n {
		h := nats.Header{}
		h.Set(bus.HeaderID, fmt.Sprintf("a%03d", i))
		h.Set(bus.HeaderRev, "1")
		msg := &nats.Msg{Subject: "articles.raw.test", Data: []byte(fmt.Sprintf("msg-%03d", i)), Header: h}
		if _, err := js.PublishMsg(context.Background(), msg, jetstream.WithMsgID(bus.MsgID(fmt.Sprintf("a%03d", i), 1, bus.Raw))); err != nil {
			t.Fatal(err)
		}
	}
}

// forward copies each input to articles.normalized with a deterministic id.
func forward(ctx context.Context, m stage.Msg) ([]stage.Out, error) {
	id := m.Header.Get(bus.HeaderID)
	return []stage.Out{{Subject: "articles.normalized.test", MsgID: bus.MsgID(id, 1, bus.Normalized), Data: m.Data, Header: m.Header}}, nil
}

func rawConfig() stage.Config {
	return stage.Config{Name: "normalize-de", Stream: bus.StreamRaw, Consumer: bus.ConsumerNormalizeDE, Concurrency: 4, PollWait: 200 * time.Millisecond}
}

// downstream returns the payloads in ARTICLES_NORMALIZED.
func downstream(t *testing.T, js jetstream.JetStream) map[string]int {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, bus.StreamNormalized)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info(ctx)
	got := map[string]int{}
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err == nil {
			got[string(m.Data)]++
		}
	}
	return got
}

func streamMsgs(t *testing.T, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func exactlyOnce(t *testing.T, got map[string]int, n int) {
	t.Helper()
	if len(got) != n {
		t.Errorf("downstream has %d distinct messages, want %d", len(got), n)
	}
	for k, c := range got {
		if c != 1 {
			t.Errorf("%s downstream %d times", k, c)
		}
	}
}

func TestWorkerKilledMidMessageLosesAndDuplicatesNothing(t *testing.T) {
	onBoth(t, func(t *testing.T, js jetstream.JetStream) {
		publishN(t, js, 40)

		ctx, kill := context.WithCancel(context.Background())
		var handled atomic.Int32
		blocked := make(chan struct{})
		var once sync.Once
		cfg := rawConfig()
		cfg.Grace = stage.NoGrace
		done := make(chan error, 1)
		go func() {
			done <- stage.Run(ctx, js, cfg, func(hctx context.Context, m stage.Msg) ([]stage.Out, error) {
				if handled.Add(1) == 10 {
					once.Do(func() { close(blocked) })
					<-hctx.Done() // the process dies with this message in hand
					return nil, hctx.Err()
				}
				return forward(hctx, m)
			})
		}()
		<-blocked
		kill()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if streamMsgs(t, js, bus.StreamRaw) == 0 {
			t.Fatal("the message in hand was acknowledged although its worker died")
		}

		// A fresh replica takes over; the abandoned message comes back after AckWait.
		ctx2, stop := context.WithCancel(context.Background())
		defer stop()
		go stage.Run(ctx2, js, rawConfig(), forward)
		natstest.Eventually(t, 20*time.Second, "the raw stream is empty", func() bool { return streamMsgs(t, js, bus.StreamRaw) == 0 })
		exactlyOnce(t, downstream(t, js), 40)
	})
}

func TestCrashBetweenPublishAndAckIsDeduplicated(t *testing.T) {
	onBoth(t, func(t *testing.T, js jetstream.JetStream) {
		publishN(t, js, 20)

		ctx, kill := context.WithCancel(context.Background())
		cfg := rawConfig()
		cfg.Grace = stage.NoGrace
		var n atomic.Int32
		stage.SetAfterPublish(&cfg, func(stage.Msg) {
			if n.Add(1) == 5 {
				kill() // output stored, input not yet acknowledged
			}
		})
		done := make(chan error, 1)
		go func() { done <- stage.Run(ctx, js, cfg, forward) }()
		<-done

		ctx2, stop := context.WithCancel(context.Background())
		defer stop()
		go stage.Run(ctx2, js, rawConfig(), forward)
		natstest.Eventually(t, 20*time.Second, "the raw stream is empty", func() bool { return streamMsgs(t, js, bus.StreamRaw) == 0 })
		exactlyOnce(t, downstream(t, js), 20)
	})
}

func TestServerRestartMidStreamLosesAndDuplicatesNothing(t *testing.T) {
	srv, js := withJS(t)
	publishN(t, js, 60)
	ctx, stop := context.WithCancel(context.Background())
	var n atomic.Int32
	go stage.Run(ctx, js, rawConfig(), func(ctx context.Context, m stage.Msg) ([]stage.Out, error) {
		n.Add(1)
		time.Sleep(5 * time.Millisecond)
		return forward(ctx, m)
	})
	natstest.Eventually(t, 10*time.Second, "some messages are handled", func() bool { return n.Load() >= 15 })
	srv.Shutdown() // the server goes away under the worker
	stop()

	srv.Restart()
	js2 := srv.JetStream()
	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	go stage.Run(ctx2, js2, rawConfig(), forward)
	natstest.Eventually(t, 20*time.Second, "the raw stream is empty", func() bool { return streamMsgs(t, js2, bus.StreamRaw) == 0 })
	exactlyOnce(t, downstream(t, js2), 60)
}

func TestFailingHandlerBacksOffThenDeadLettersWithItsReason(t *testing.T) {
	onBoth(t, func(t *testing.T, js jetstream.JetStream) {
		publishN(t, js, 1)
		cfg := rawConfig()
		cfg.Backoff = func(n uint64) time.Duration { return 50 * time.Millisecond }
		var calls atomic.Int32
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		go stage.Run(ctx, js, cfg, func(context.Context, stage.Msg) ([]stage.Out, error) {
			calls.Add(1)
			return nil, fmt.Errorf("engine timed out")
		})
		natstest.Eventually(t, 20*time.Second, "the message is dead-lettered", func() bool { return streamMsgs(t, js, bus.StreamDLQ) == 1 })
		if c := calls.Load(); c != 3 {
			t.Errorf("handler ran %d times, want MaxDeliver = 3", c)
		}
		m := lastDLQ(t, js)
		if r := m.Header.Get(bus.HeaderReason); !strings.Contains(r, "gave up after 3 deliveries") || !strings.Contains(r, "engine timed out") {
			t.Errorf("reason %q", r)
		}
		if m.Subject != "articles.dlq.normalize-de.test" || m.Header.Get(bus.HeaderSubject) != "articles.raw.test" {
			t.Errorf("dead letter at %s from %s", m.Subject, m.Header.Get(bus.HeaderSubject))
		}
		if streamMsgs(t, js, bus.StreamRaw) != 0 {
			t.Error("dead-lettered message is still in the work queue")
		}
	})
}

func TestMessageThatRunsOutOfDeliveriesReachesTheDLQThroughTheAdvisory(t *testing.T) {
	_, js := withJS(t)
	publishN(t, js, 1)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() { t.Log(stage.MoveDeadLetters(ctx, js, bus.ConsumerNormalizeDE, zaptest.NewLogger(t), nil, nil)) }()

	// A worker that takes the message and dies, three times over.
	cons, err := js.Consumer(ctx, bus.StreamRaw, bus.ConsumerNormalizeDE)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		b, err := cons.Fetch(1, jetstream.FetchMaxWait(3*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for range b.Messages() {
			got++
		}
		if got != 1 {
			t.Fatalf("delivery %d: got %d messages", i+1, got)
		}
	}
	// Replicas keep pulling; that is when the server notices the exhausted message.
	b, err := cons.Fetch(1, jetstream.FetchMaxWait(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for range b.Messages() {
		t.Fatal("a message was delivered beyond MaxDeliver")
	}
	natstest.Eventually(t, 20*time.Second, "the mover dead-letters it", func() bool { return streamMsgs(t, js, bus.StreamDLQ) == 1 })
	m := lastDLQ(t, js)
	if !strings.Contains(m.Header.Get(bus.HeaderReason), "ran out of deliveries") || m.Header.Get(bus.HeaderID) != "a000" {
		t.Errorf("dead letter headers %v", m.Header)
	}
	natstest.Eventually(t, 5*time.Second, "it is removed from the work queue", func() bool { return streamMsgs(t, js, bus.StreamRaw) == 0 })
}

func TestPausedStageHoldsItsMessageAndResumesByItself(t *testing.T) {
	_, js := withJS(t)
	publishN(t, js, 5)
	var quota atomic.Bool
	quota.Store(true)
	var calls atomic.Int32
	met := stage.NewMetrics(nil)
	cfg := rawConfig()
	cfg.Concurrency = 1
	cfg.Metrics = met
	cfg.Heartbeat = 200 * time.Millisecond
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go stage.Run(ctx, js, cfg, func(ctx context.Context, m stage.Msg) ([]stage.Out, error) {
		calls.Add(1)
		if quota.Load() {
			return nil, stage.Pause(fmt.Errorf("quota exceeded"), 300*time.Millisecond)
		}
		if m.Deliveries != 1 {
			return nil, stage.Permanent(fmt.Errorf("delivery %d: pausing cost a delivery", m.Deliveries))
		}
		return forward(ctx, m)
	})
	// Hold well past AckWait (1s): heartbeats keep the message, nothing else is pulled.
	time.Sleep(2500 * time.Millisecond)
	if n := len(downstream(t, js)); n != 0 {
		t.Fatalf("%d messages passed a paused stage", n)
	}
	if got := gauge(met, "normalize-de"); got != 1 {
		t.Fatalf("paused gauge = %v", got)
	}
	quota.Store(false)
	natstest.Eventually(t, 20*time.Second, "all five pass after the quota lifts", func() bool { return len(downstream(t, js)) == 5 })
	if streamMsgs(t, js, bus.StreamDLQ) != 0 {
		t.Fatal("pausing dead-lettered a message")
	}
	if got := gauge(met, "normalize-de"); got != 0 {
		t.Fatalf("paused gauge = %v after resuming", got)
	}
}

func lastDLQ(t *testing.T, js jetstream.JetStream) *jetstream.RawStreamMsg {
	t.Helper()
	s, _ := js.Stream(context.Background(), bus.StreamDLQ)
	info, _ := s.Info(context.Background())
	m, err := s.GetMsg(context.Background(), info.State.LastSeq)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestStreamLeaderLossMidStreamLosesAndDuplicatesNothing(t *testing.T) {
	c := natstest.Cluster(t, 3)
	js := ensure(t, c.JetStream(), 3)
	publishN(t, js, 60)
	var n atomic.Int32
	gate := make(chan struct{})
	cfg := rawConfig()
	cfg.RequestTimeout = 2 * time.Second
	cfg.Backoff = func(uint64) time.Duration { return 100 * time.Millisecond }
	runStage(t, js, cfg, func(ctx context.Context, m stage.Msg) ([]stage.Out, error) {
		if n.Add(1) > 15 {
			<-gate // the rest waits until the leader is gone
		}
		return forward(ctx, m)
	})
	natstest.Eventually(t, 20*time.Second, "15 messages are handled", func() bool { return n.Load() > 15 })
	leader := c.WaitStreamLeader(bus.StreamNormalized)
	leader.Shutdown() // the node leading the output stream goes away mid-stream
	close(gate)
	natstest.Eventually(t, 30*time.Second, "another node leads the output stream", func() bool {
		l := c.StreamLeader(bus.StreamNormalized)
		return l != nil && l != leader
	})
	leader.Restart()
	c.WaitReady()
	natstest.Eventually(t, time.Minute, "the raw stream is empty", func() bool { return streamMsgs(t, js, bus.StreamRaw) == 0 })
	exactlyOnce(t, downstream(t, js), 60)
	if d := streamMsgs(t, js, bus.StreamDLQ); d != 0 {
		t.Errorf("%d dead letters", d)
	}
}
