package local_test

import (
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"context"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/mttest"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/local"
	"github.com/dewire/dewire/workers/tm"
)

// BenchmarkPipeline sends b.N German articles through every stage (ingest,
// normalize-de, translate with an instant engine and the KV translation
// memory, normalize-en, sink with fsync) on an embedded server with file
// storage, and reports articles/s, ingest-to-sink latency and peak heap.
//
//	go test -run '^$' -bench Pipeline -benchtime 5000x ./workers/local/
func BenchmarkPipeline(b *testing.B) {
	cfg := config(b, nil)
	cfg.Translator = nil
	cfg.NewTranslator = func(ctx context.Context, js jetstream.JetStream) (local.Translator, error) {
		mem, err := tm.NewKV(ctx, js, bus.BucketMemory)
		if err != nil {
			return nil, err
		}
		return &mt.Translator{Engine: &mttest.Engine{EngineName: "instant"}, Memory: mem, Concurrency: 16}, nil
	}
	if n, err := strconv.Atoi(os.Getenv("DEWIRE_BENCH_CONCURRENCY")); err == nil {
		cfg.Concurrency = n
	}
	p := start(b, cfg)
	defer p.Close()
	in := b.TempDir()
	writeJSONL(b, in, 0, b.N)
	ctx := waitCtx(b, 10*time.Minute)

	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	b.ResetTimer()
	start := time.Now()
	if err := p.Ingest(ctx, []string{in}, local.IngestOptions{}); err != nil {
		b.Fatal(err)
	}
	if err := p.Wait(ctx, nil); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	wg.Wait()

	if st := p.Stats(); st.Clean != b.N {
		b.Fatalf("stats %+v", st)
	}
	var lat []time.Duration
	for _, r := range readSink(b, cfg.OutDir) {
		if d, ok := latency(r); ok {
			lat = append(lat, d)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "articles/s")
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}

// latency is the time from ingest to the sink.
func latency(a *article.Article) (time.Duration, bool) {
	var in, out time.Time
	for _, t := range a.Trace {
		switch t.Stage {
		case article.StageIngest:
			in = t.At
		case article.StageSink:
			out = t.At
		}
	}
	return out.Sub(in), !in.IsZero() && !out.IsZero()
}
