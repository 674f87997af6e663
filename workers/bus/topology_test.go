package bus_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/workers/bus"
)

func TestEnsureIsIdempotentAndSafeToRunConcurrently(t *testing.T) {
	srv, err := bus.Embedded{StoreDir: t.TempDir()}.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := bus.Connect(ctx, bus.Conn{InProcess: srv}, nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
			for range 2 {
				if err := bus.DefaultTopology().Ensure(ctx, js); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()

	nc, _ := bus.Connect(ctx, bus.Conn{InProcess: srv}, nil)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	topo := bus.DefaultTopology()
	for _, sc := range topo.Streams() {
		s, err := js.Stream(ctx, sc.Name)
		if err != nil {
			t.Fatalf("stream %s: %v", sc.Name, err)
		}
		if got := s.CachedInfo().Config; got.Retention != sc.Retention || got.Duplicates != sc.Duplicates && sc.Duplicates != 0 {
			t.Errorf("stream %s: retention %v duplicates %v", sc.Name, got.Retention, got.Duplicates)
		}
	}
	for _, c := range topo.Consumers() {
		for _, name := range []string{c.Durable, bus.MoverConsumer(c.Durable)} {
			stream := c.Stream
			if name != c.Durable {
				stream = bus.StreamAdvisories
			}
			if _, err := js.Consumer(ctx, stream, name); err != nil {
				t.Errorf("consumer %s/%s: %v", stream, name, err)
			}
		}
	}
	t.Run("the duplicate window covers the redelivery horizon", func(t *testing.T) {
		if topo.DuplicateWindow < topo.AckWait*time.Duration(topo.MaxDeliver) {
			t.Fatalf("window %s < %d × %s", topo.DuplicateWindow, topo.MaxDeliver, topo.AckWait)
		}
	})
}

func TestSubjectsAndMessageIDs(t *testing.T) {
	for _, tc := range []struct{ name, got, want string }{
		{"a source name becomes one safe subject token", bus.Subject(bus.Raw, "Die Welt / Politik"), "articles.raw.die_welt___politik"},
		{"an empty source is unknown", bus.Subject(bus.Clean, ""), "articles.clean.unknown"},
		{"dead letters name the stage that gave up", bus.DLQSubject("translate", "wire"), "articles.dlq.translate.wire"},
		{"message ids are id@rev:stage", bus.MsgID("abc", 2, bus.Normalized), "abc@2:normalized"},
		{"a long source name is cut to 64 bytes", bus.Subject(bus.Raw, strings.Repeat("a", 100)), "articles.raw." + strings.Repeat("a", 64)},
		{"the source is the last subject token", bus.SourceFromSubject("articles.raw.wire"), "wire"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

// TestEnsureWaitsForACompleteCluster runs set-up against a three-node
// cluster while one node is down, as an operator does while the cluster
// comes up: replicated streams cannot be placed until it returns, and
// Ensure must keep asking (each try bounded) rather than fail or hang.
func TestEnsureWaitsForACompleteCluster(t *testing.T) {
	c := natstest.Cluster(t, 3)
	js := c.Nodes[0].JetStream()
	late := c.Nodes[2]
	late.Shutdown()
	back := make(chan struct{})
	go func() {
		defer close(back)
		time.Sleep(3 * time.Second)
		late.Start()
	}()
	topo := bus.DefaultTopology()
	topo.Replicas = 3
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := topo.Ensure(ctx, js); err != nil {
		t.Fatalf("Ensure while a node was down for 3s: %v", err)
	}
	<-back
	for _, sc := range topo.Streams() {
		s, err := js.Stream(ctx, sc.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.CachedInfo().Config.Replicas; got != 3 {
			t.Errorf("stream %s has %d replicas, want 3", sc.Name, got)
		}
	}
}

// TestEnsureWithoutAdminRightsSaysSo runs set-up as a user who may only
// publish articles: the server refuses the requests without answering,
// and Ensure must report the refusal instead of waiting for a cluster.
func TestEnsureWithoutAdminRightsSaysSo(t *testing.T) {
	n := natstest.Server(t, func(o *server.Options) {
		o.Users = []*server.User{{Username: "worker", Password: "pw", Permissions: &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: []string{"articles.>"}},
			Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}},
		}}}
	})
	js := natstest.NewJetStream(t, n.Conn(nats.UserInfo("worker", "pw")))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := bus.DefaultTopology().Ensure(ctx, js)
	if !errors.Is(err, bus.ErrNotPermitted) || !errors.Is(err, nats.ErrPermissionViolation) {
		t.Fatalf("Ensure as a user without JetStream rights = %v, want bus.ErrNotPermitted wrapping the violation", err)
	}
}
