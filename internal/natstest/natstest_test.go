package natstest_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/internal/natstest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestServerRestartKeepsItsStoreAndPort(t *testing.T) {
	ctx := ctxT(t)
	n := natstest.Server(t)
	js := n.JetStream()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "s.1", []byte("before")); err != nil {
		t.Fatal(err)
	}
	url := n.URL()
	n.Shutdown()
	if n.Running() {
		t.Fatal("running after Shutdown")
	}
	n.Restart()
	if n.URL() != url || n.Server().ClientURL() != url {
		t.Fatalf("restarted at %s (%s), was %s", n.URL(), n.Server().ClientURL(), url)
	}
	// The first client reconnects by itself and finds the stored message.
	var m *jetstream.RawStreamMsg
	natstest.Eventually(t, 10*time.Second, "the old client reads the message stored before the outage", func() bool {
		s, err := js.Stream(ctx, "S")
		if err != nil {
			return false
		}
		m, err = s.GetMsg(ctx, 1)
		return err == nil
	})
	if string(m.Data) != "before" {
		t.Fatalf("message %q", m.Data)
	}
}

func TestServerOptionsApply(t *testing.T) {
	n := natstest.Server(t, natstest.MaxPayload(1024))
	if got := n.Conn().MaxPayload(); got != 1024 {
		t.Fatalf("max payload %d, want 1024", got)
	}
}

func TestClusterElectsANewStreamLeaderWhenTheLeaderGoesDown(t *testing.T) {
	ctx := ctxT(t)
	c := natstest.Cluster(t, 3)
	js := c.JetStream()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "R3", Subjects: []string{"r3.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "r3.a", []byte("one")); err != nil {
		t.Fatal(err)
	}
	old := c.WaitStreamLeader("R3")
	info, err := mustStream(ctx, t, js).Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster == nil || info.Cluster.Leader != old.Name() {
		t.Fatalf("stream info names leader %+v, the servers say %s", info.Cluster, old.Name())
	}

	old.Shutdown()
	var now *natstest.Node
	natstest.Eventually(t, 20*time.Second, "another node leads the stream", func() bool {
		now = c.StreamLeader("R3")
		return now != nil && now != old
	})
	natstest.Eventually(t, 20*time.Second, "a publish succeeds without the old leader", func() bool {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := js.Publish(pctx, "r3.b", []byte("two"))
		return err == nil
	})

	old.Restart()
	c.WaitReady()
	natstest.Eventually(t, 20*time.Second, "the restarted node has caught up", func() bool {
		info, err := old.Server().Jsz(&server.JSzOptions{Account: natstest.Account, Streams: true})
		if err != nil || len(info.AccountDetails) != 1 {
			return false
		}
		for _, sd := range info.AccountDetails[0].Streams {
			if sd.Name == "R3" && sd.State.Msgs == 2 {
				return true
			}
		}
		return false
	})
}

func mustStream(ctx context.Context, t *testing.T, js jetstream.JetStream) jetstream.Stream {
	t.Helper()
	s, err := js.Stream(ctx, "R3")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// recorder is a testing.TB whose Fatalf records the failure and ends the
// calling goroutine, as the real one does.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.failed = format
	r.mu.Unlock()
	runtime.Goexit()
}

func TestEventuallyFailsWhenTheConditionNeverHolds(t *testing.T) {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		natstest.Eventually(r, 100*time.Millisecond, "never", func() bool { return false })
	}()
	<-done
	if r.failed == "" {
		t.Fatal("Eventually returned although its condition never held")
	}

	calls := 0
	natstest.Eventually(t, 10*time.Second, "the third poll", func() bool { calls++; return calls == 3 })
	if calls != 3 {
		t.Fatalf("polled %d times", calls)
	}
}
