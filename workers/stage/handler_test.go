package stage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/stage"
)

// runStage runs the stage until the test ends and waits for it to stop.
func runStage(t *testing.T, js jetstream.JetStream, cfg stage.Config, h stage.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- stage.Run(ctx, js, cfg, h) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(time.Minute):
			t.Error("the stage did not stop within a minute of its context ending")
		}
	})
}

func outcomes(m *stage.Metrics, name, outcome string) float64 {
	var out dto.Metric
	if err := m.Messages.WithLabelValues(name, outcome).Write(&out); err != nil {
		return -1
	}
	return out.GetCounter().GetValue()
}

func TestSlowHandlersGetEveryMessageAtItsFirstDelivery(t *testing.T) {
	onBoth(t, func(t *testing.T, js jetstream.JetStream) {
		publishN(t, js, 20)
		var mu sync.Mutex
		deliveries := map[string][]uint64{}
		cfg := rawConfig()
		cfg.Concurrency = 2
		cfg.Heartbeat = 100 * time.Millisecond
		met := stage.NewMetrics(nil)
		cfg.Metrics = met
		runStage(t, js, cfg, func(ctx context.Context, m stage.Msg) ([]stage.Out, error) {
			mu.Lock()
			deliveries[m.Header.Get(bus.HeaderID)] = append(deliveries[m.Header.Get(bus.HeaderID)], m.Deliveries)
			mu.Unlock()
			// Uneven handlers, some much slower than a heartbeat, free their
			// slots one at a time.
			var i int
			fmt.Sscanf(m.Header.Get(bus.HeaderID), "a%d", &i)
			time.Sleep(time.Duration(100+300*(i%2)) * time.Millisecond)
			return forward(ctx, m)
		})
		natstest.Eventually(t, 60*time.Second, "all 20 are handled", func() bool { return streamMsgs(t, js, bus.StreamRaw) == 0 })
		exactlyOnce(t, downstream(t, js), 20)
		mu.Lock()
		defer mu.Unlock()
		for id, d := range deliveries {
			if len(d) != 1 || d[0] != 1 {
				t.Errorf("%s handled at deliveries %v, want only the first", id, d)
			}
		}
		if len(deliveries) != 20 {
			t.Errorf("%d messages reached the handler, want 20", len(deliveries))
		}
		if r := outcomes(met, "normalize-de", stage.OutcomeRetry); r != 0 {
			t.Errorf("%v retries", r)
		}
		cons, err := js.Consumer(context.Background(), bus.StreamRaw, bus.ConsumerNormalizeDE)
		if err != nil {
			t.Fatal(err)
		}
		info, err := cons.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.NumRedelivered != 0 {
			t.Errorf("the server redelivered %d messages", info.NumRedelivered)
		}
	})
}

func TestPanickingHandlerDeadLettersItsMessageAndTheStageGoesOn(t *testing.T) {
	onBoth(t, func(t *testing.T, js jetstream.JetStream) {
		publishN(t, js, 3)
		core, logs := observer.New(zapcore.ErrorLevel)
		cfg := rawConfig()
		cfg.Log = zap.New(core)
		var panics atomic.Int32
		runStage(t, js, cfg, func(ctx context.Context, m stage.Msg) ([]stage.Out, error) {
			if m.Header.Get(bus.HeaderID) == "a001" {
				panics.Add(1)
				panic("index out of range in the segmenter")
			}
			return forward(ctx, m)
		})
		natstest.Eventually(t, 20*time.Second, "the panicking message is dead-lettered", func() bool { return streamMsgs(t, js, bus.StreamDLQ) == 1 })
		natstest.Eventually(t, 20*time.Second, "the other two pass", func() bool { return len(downstream(t, js)) == 2 })
		if n := panics.Load(); n != 1 {
			t.Errorf("handler panicked %d times; want once, then dead-lettered", n)
		}
		m := lastDLQ(t, js)
		reason := m.Header.Get(bus.HeaderReason)
		if !strings.HasPrefix(reason, "handler.panic") || !strings.Contains(reason, "index out of range in the segmenter") {
			t.Errorf("reason %q", reason)
		}
		if strings.Contains(reason, "goroutine") || strings.Contains(reason, ".go:") {
			t.Errorf("the stack went into the reason: %q", reason)
		}
		if m.Header.Get(bus.HeaderID) != "a001" {
			t.Errorf("dead letter of %s", m.Header.Get(bus.HeaderID))
		}
		stacks := 0
		for _, e := range logs.All() {
			if s, ok := e.ContextMap()["stack"].(string); ok && strings.Contains(s, "handler_test.go") {
				stacks++
			}
		}
		if stacks == 0 {
			t.Error("no error log carries the panic's stack")
		}
	})
}

func TestStuckHandlerLosesItsMessageWhichIsRedeliveredAndHandled(t *testing.T) {
	onBoth(t, func(t *testing.T, js jetstream.JetStream) {
		publishN(t, js, 1)
		release := make(chan struct{})
		var stuck, second atomic.Bool
		var stillStuck atomic.Bool
		met := stage.NewMetrics(nil)
		cfg := rawConfig()
		cfg.Metrics = met
		cfg.HandlerTimeout = time.Second // = AckWait
		cfg.Backoff = func(uint64) time.Duration { return 50 * time.Millisecond }
		runStage(t, js, cfg, func(ctx context.Context, m stage.Msg) ([]stage.Out, error) {
			if m.Deliveries == 1 {
				stuck.Store(true)
				<-release // ignores its context
				stuck.Store(false)
				return nil, errors.New("released at the end of the test")
			}
			second.Store(true)
			stillStuck.Store(stuck.Load())
			return forward(ctx, m)
		})
		t.Cleanup(func() { close(release) }) // before the stage stops
		natstest.Eventually(t, 30*time.Second, "the message is handled on a later delivery", func() bool { return len(downstream(t, js)) == 1 })
		if !second.Load() || !stillStuck.Load() {
			t.Errorf("redelivered %v while the first call was still stuck %v", second.Load(), stillStuck.Load())
		}
		if n := outcomes(met, "normalize-de", stage.OutcomeTimedOut); n != 1 {
			t.Errorf("timed_out counted %v, want 1", n)
		}
		natstest.Eventually(t, 10*time.Second, "the work queue is empty", func() bool { return streamMsgs(t, js, bus.StreamRaw) == 0 })
		if n := streamMsgs(t, js, bus.StreamDLQ); n != 0 {
			t.Errorf("%d dead letters", n)
		}
	})
}

func TestOutputOverMaxPayloadDeadLettersItsInputAtOnce(t *testing.T) {
	const maxPayload = 4096
	onBoth(t, func(t *testing.T, js jetstream.JetStream) {
		publishN(t, js, 2)
		var calls atomic.Int32
		runStage(t, js, rawConfig(), func(ctx context.Context, m stage.Msg) ([]stage.Out, error) {
			outs, err := forward(ctx, m)
			if m.Header.Get(bus.HeaderID) == "a000" {
				calls.Add(1)
				outs[0].Data = []byte(strings.Repeat("x", maxPayload+1))
			}
			return outs, err
		})
		natstest.Eventually(t, 20*time.Second, "the input is dead-lettered", func() bool { return streamMsgs(t, js, bus.StreamDLQ) == 1 })
		natstest.Eventually(t, 20*time.Second, "the other message passes", func() bool { return len(downstream(t, js)) == 1 })
		if n := calls.Load(); n != 1 {
			t.Errorf("handler ran %d times for the oversized output; want once", n)
		}
		m := lastDLQ(t, js)
		reason := m.Header.Get(bus.HeaderReason)
		var size, limit int
		if _, err := fmt.Sscanf(reason, "record.too_large: %d bytes, server max_payload %d", &size, &limit); err != nil ||
			size <= maxPayload+1 || limit != maxPayload {
			t.Errorf("reason %q (%v): want record.too_large with the output's size (data and headers) and the limit", reason, err)
		}
		if m.Header.Get(bus.HeaderID) != "a000" || string(m.Data) != "msg-000" {
			t.Errorf("dead letter of %s %q", m.Header.Get(bus.HeaderID), m.Data)
		}
	}, natstest.MaxPayload(maxPayload))
}

func TestUnansweredPublishIsRetriedThenDeadLettered(t *testing.T) {
	_, js := withJS(t)
	// Interest but no stream: a publish here never gets its PubAck.
	sub, err := js.Conn().Subscribe("articles.void.>", func(*nats.Msg) {})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	publishN(t, js, 1)
	cfg := rawConfig()
	cfg.RequestTimeout = 200 * time.Millisecond
	cfg.Backoff = func(uint64) time.Duration { return 50 * time.Millisecond }
	var calls atomic.Int32
	runStage(t, js, cfg, func(ctx context.Context, m stage.Msg) ([]stage.Out, error) {
		calls.Add(1)
		return []stage.Out{{Subject: "articles.void.test", MsgID: "void-" + m.Header.Get(bus.HeaderID), Data: m.Data}}, nil
	})
	natstest.Eventually(t, time.Minute, "the message is dead-lettered", func() bool { return streamMsgs(t, js, bus.StreamDLQ) == 1 })
	if n := calls.Load(); n != 3 {
		t.Errorf("handler ran %d times; a publish timeout must be retried up to MaxDeliver = 3", n)
	}
	if r := lastDLQ(t, js).Header.Get(bus.HeaderReason); !strings.Contains(r, "gave up after 3 deliveries") || !strings.Contains(r, "articles.void.test") {
		t.Errorf("reason %q", r)
	}
}
