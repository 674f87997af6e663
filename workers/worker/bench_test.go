package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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

// BenchmarkPipeline runs the containers' path: every worker kind through
// worker.Run, each with its own TCP connection to a real nats-server, the
// ingest worker reading one JSONL file of b.N German articles, the translate
// worker with an instant engine and the KV translation memory, the sink
// writing JSONL and TMX with fsync. It reports articles/s (ingest start to
// the last record stored), CPU per article and peak heap, for file storage
// with and without fsync on every write, on one server and a three-node
// loopback cluster with replicas 3. Before the pipeline, the same server
// carries b.N messages through the same consumers with no work
// (brokerCeiling, see BenchmarkBrokerCeiling); the case reports that rate
// and the pipeline's share of it.
//
//	go test -run '^$' -bench Pipeline -benchtime 3000x -benchmem ./workers/worker/
func BenchmarkPipeline(b *testing.B) {
	for _, tc := range pipelineCases {
		b.Run(tc.name, func(b *testing.B) {
			benchPipeline(b, pipelineServer(b, tc.durable, tc.replicas), tc.replicas)
		})
	}
}

var pipelineCases = []struct {
	name     string
	durable  bool
	replicas int
}{
	{"file/replicas=1", false, 1},
	{"durable/replicas=1", true, 1},
	{"file/replicas=3", false, 3},
	{"durable/replicas=3", true, 3},
}

// pipelineServer starts one server, or a three-node loopback cluster, with
// file storage, fsync on every write when durable, and returns its URLs.
func pipelineServer(b *testing.B, durable bool, replicas int) string {
	opts := []natstest.Option{func(o *server.Options) { o.MaxPayload = 8 << 20; o.SyncAlways = durable }}
	if replicas == 1 {
		return natstest.Server(b, opts...).URL()
	}
	c := natstest.Cluster(b, 3, opts...)
	var us []string
	for _, n := range c.Nodes {
		us = append(us, n.URL())
	}
	return strings.Join(us, ",")
}

func benchPipeline(b *testing.B, urls string, replicas int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	topo := bus.DefaultTopology()
	topo.Replicas = replicas
	nc := natstest.Connect(b, urls)
	if err := topo.Ensure(ctx, natstest.NewJetStream(b, nc)); err != nil {
		b.Fatal(err)
	}
	nc.Close()
	ceiling := brokerCeiling(b, urls, b.N)
	de, err := normalize.New("de")
	if err != nil {
		b.Fatal(err)
	}
	en, err := normalize.New("en")
	if err != nil {
		b.Fatal(err)
	}
	in := filepath.Join(b.TempDir(), "articles.jsonl")
	writeArticles(b, in, b.N)
	var stored atomic.Int64
	allStored := make(chan struct{})
	base := func(kind string) worker.Config {
		return worker.Config{Kind: kind, Conn: bus.Conn{URL: urls}, Topology: topo, Concurrency: 32, Grace: time.Second}
	}
	cfgs := []worker.Config{base(worker.Normalize), base(worker.Translate), base(worker.Sink)}
	cfgs[0].Normalize = wnorm.Options{DE: de, EN: en}
	cfgs[1].Translate = translate.Options{Engine: &mttest.Engine{EngineName: "instant"}}
	cfgs[2].Sink = sink.Options{Out: b.TempDir(), TMX: true, Concurrency: 64, OnWritten: func(*article.Article, bool) {
		if stored.Add(1) == int64(b.N) {
			close(allStored)
		}
	}}
	var wg sync.WaitGroup
	for _, cfg := range cfgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := worker.Run(ctx, cfg); err != nil {
				b.Error(err)
			}
		}()
	}
	defer wg.Wait()
	defer cancel()

	ing := base(worker.Ingest)
	ing.Ingest = ingest.Options{Reader: &intake.Reader{}, Paths: []string{in}}
	var peak atomic.Uint64
	stopPeak := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stopPeak:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	defer close(stopPeak)

	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := worker.Run(ctx, ing); err != nil {
		b.Fatal(err)
	}
	select {
	case <-allStored:
	case <-time.After(10 * time.Minute):
		b.Fatalf("%d of %d records stored", stored.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "articles/s")
	b.ReportMetric(ceiling, "ceiling-msgs/s")
	b.ReportMetric(rate/ceiling, "x-ceiling")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N)/1000, "cpu-ms/article")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}

func writeArticles(b testing.TB, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	for i := range n {
		enc.Encode(map[string]any{
			"guid": fmt.Sprintf("bench-%d", i), "title": fmt.Sprintf("Bericht %d über die Lage in der Region", i),
			"paragraphs": []string{
				fmt.Sprintf("Der Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt. Meldung %d.", i),
				"Nach Angaben des Ministeriums wurden in der Region mehrere Dörfer evakuiert. Die Opposition kritisierte die Entscheidung.",
				"Beobachter rechnen damit, dass die Verhandlungen noch mehrere Wochen dauern werden.",
			},
		})
	}
}

// cpuTime is the CPU time this process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
