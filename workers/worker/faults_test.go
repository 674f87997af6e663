package worker_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/pipeline/mt/mttest"
	"github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
	wnorm "github.com/dewire/dewire/workers/normalize"
	"github.com/dewire/dewire/workers/sink"
	"github.com/dewire/dewire/workers/translate"
	"github.com/dewire/dewire/workers/worker"
)

// pipelineOn runs every worker kind through worker.Run against urls (two
// replicas of normalize and translate) and returns the sink's folder and a
// counter of records handled.
func pipelineOn(t *testing.T, urls string, topo bus.Topology) (out string, stored *keySet) {
	t.Helper()
	de, err := normalize.New("de")
	if err != nil {
		t.Fatal(err)
	}
	en, err := normalize.New("en")
	if err != nil {
		t.Fatal(err)
	}
	out = t.TempDir()
	stored = &keySet{keys: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	base := func(kind string) worker.Config {
		return worker.Config{Kind: kind, Conn: bus.Conn{URL: urls}, Topology: topo, Concurrency: 8, Grace: time.Second}
	}
	var cfgs []worker.Config
	for range 2 {
		n := base(worker.Normalize)
		n.Normalize = wnorm.Options{DE: de, EN: en}
		tr := base(worker.Translate)
		tr.Translate = translate.Options{Engine: &mttest.Engine{EngineName: "instant"}}
		cfgs = append(cfgs, n, tr)
	}
	s := base(worker.Sink)
	s.Sink = sink.Options{Out: out, TMX: true, OnWritten: func(a *article.Article, _ bool) { stored.add(a.Key()) }}
	cfgs = append(cfgs, s)
	var wg sync.WaitGroup
	for _, cfg := range cfgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := worker.Run(ctx, cfg); err != nil {
				t.Error(err)
			}
		}()
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return out, stored
}

func ingestFile(t *testing.T, urls string, topo bus.Topology, n int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.jsonl")
	writeArticles(t, path, n)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := worker.Run(ctx, worker.Config{Kind: worker.Ingest, Conn: bus.Conn{URL: urls}, Topology: topo, Concurrency: 8,
		Ingest: ingest.Options{Reader: &intake.Reader{}, Paths: []string{path}}})
	if err != nil {
		t.Fatal(err)
	}
}

// auditSink checks that the sink's JSONL holds each of want records once.
func auditSink(t *testing.T, out string, want int) {
	t.Helper()
	recs, err := sink.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.Key()]++
	}
	dups := 0
	for k, n := range seen {
		if n > 1 {
			dups++
			t.Errorf("%s stored %d times", k, n)
		}
	}
	if len(seen) != want || dups > 0 {
		t.Fatalf("sink holds %d distinct records (%d duplicated), want %d once each", len(seen), dups, want)
	}
}

func TestPipelineLosesAndDuplicatesNothingWhenTheServerRestarts(t *testing.T) {
	srv := natstest.Server(t, func(o *server.Options) { o.MaxPayload = 8 << 20 })
	topo := bus.DefaultTopology()
	if err := topo.Ensure(context.Background(), srv.JetStream()); err != nil {
		t.Fatal(err)
	}
	out, stored := pipelineOn(t, srv.URL(), topo)
	const n = 300
	done := make(chan struct{})
	go func() {
		defer close(done)
		ingestFile(t, srv.URL(), topo, n)
	}()
	natstest.Eventually(t, 2*time.Minute, "the first records are stored", func() bool { return stored.len() >= 30 })
	srv.Shutdown()
	time.Sleep(2 * time.Second) // an outage with articles in every stage
	srv.Start()
	<-done
	natstest.Eventually(t, 3*time.Minute, "every article reaches the sink", func() bool { return stored.len() >= n })
	auditSink(t, out, n)
}

func TestPipelineOnAClusterLosesAndDuplicatesNothingWhenLeadersMoveAndANodeDies(t *testing.T) {
	c := natstest.Cluster(t, 3, func(o *server.Options) { o.MaxPayload = 8 << 20 })
	topo := bus.DefaultTopology()
	topo.Replicas = 3
	if err := topo.Ensure(context.Background(), c.JetStream()); err != nil {
		t.Fatal(err)
	}
	out, stored := pipelineOn(t, c.URLs(), topo)
	const n = 300
	done := make(chan struct{})
	go func() {
		defer close(done)
		ingestFile(t, c.URLs(), topo, n)
	}()
	natstest.Eventually(t, 2*time.Minute, "the first records are stored", func() bool { return stored.len() >= 30 })

	// The translation memory's leader moves while every client's own server stays up.
	nc := c.Conn()
	if _, err := nc.Request("$JS.API.STREAM.LEADER.STEPDOWN.KV_"+bus.BucketMemory, nil, 10*time.Second); err != nil {
		t.Fatalf("step down the memory's leader: %v", err)
	}
	nc.Close()
	natstest.Eventually(t, 2*time.Minute, "more records are stored after the step-down", func() bool { return stored.len() >= 80 })

	// Then the node leading the raw stream dies for a while, and comes back.
	// (Progress while it is down is not asserted: on a loaded machine the
	// pipeline has been seen to wait for the node.)
	leader := c.WaitStreamLeader(bus.StreamRaw)
	leader.Shutdown()
	time.Sleep(5 * time.Second)
	leader.Start()
	<-done
	natstest.Eventually(t, 6*time.Minute, "every article reaches the sink", func() bool { return stored.len() >= n })
	auditSink(t, out, n)
}

// keySet counts the distinct records the sink handled.
type keySet struct {
	mu   sync.Mutex
	keys map[string]bool
}

func (k *keySet) add(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys[key] = true
}

func (k *keySet) len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys)
}
