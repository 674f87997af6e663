package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/pipeline/mt/mttest"
	"github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
	wnorm "github.com/dewire/dewire/workers/normalize"
	"github.com/dewire/dewire/workers/sink"
	"github.com/dewire/dewire/workers/stage"
	"github.com/dewire/dewire/workers/translate"
	"github.com/dewire/dewire/workers/worker"
)

// value sums the series of a metric whose labels include want.
func value(t *testing.T, p *worker.Probes, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := p.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue series
				}
			}
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

func TestWorkersExportEngineMemoryAndSinkMetrics(t *testing.T) {
	srv := natstest.Server(t)
	topo := bus.DefaultTopology()
	if err := topo.Ensure(context.Background(), srv.JetStream()); err != nil {
		t.Fatal(err)
	}
	de, _ := normalize.New("de")
	en, _ := normalize.New("en")
	probes := worker.NewProbes() // one registry, as in `dewire run`
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, cfg := range []worker.Config{
		{Kind: worker.Normalize, Normalize: wnorm.Options{DE: de, EN: en}},
		{Kind: worker.Translate, Translate: translate.Options{Engine: &mttest.Engine{EngineName: "instant"}}},
		{Kind: worker.Sink, Sink: sink.Options{Out: t.TempDir()}},
	} {
		cfg.Conn, cfg.Topology, cfg.Concurrency, cfg.Probes = bus.Conn{URL: srv.URL()}, topo, 4, probes
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := worker.Run(ctx, cfg); err != nil {
				t.Error(err)
			}
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })

	// Two batches of ten articles with the same sentences: the second comes from the memory.
	dir := t.TempDir()
	for batch := range 2 {
		var lines []byte
		for i := range 10 {
			b, _ := json.Marshal(map[string]any{"guid": fmt.Sprintf("m-%d-%d", batch, i), "title": fmt.Sprintf("Bericht über die Lage %d", i),
				"paragraphs": []string{fmt.Sprintf("Der Präsident sagte am Montag in Baku, die Gespräche würden fortgesetzt. Meldung %d.", i)}})
			lines = append(append(lines, b...), '\n')
		}
		path := filepath.Join(dir, fmt.Sprintf("b%d.jsonl", batch))
		if err := os.WriteFile(path, lines, 0o644); err != nil {
			t.Fatal(err)
		}
		ictx, icancel := context.WithTimeout(ctx, time.Minute)
		// Its own routes, the same registry.
		ip := &worker.Probes{Registry: probes.Registry, Health: &stage.Health{}, Mux: http.NewServeMux()}
		err := worker.Run(ictx, worker.Config{Kind: worker.Ingest, Conn: bus.Conn{URL: srv.URL()}, Concurrency: 4, Probes: ip,
			Ingest: ingest.Options{Reader: &intake.Reader{}, Paths: []string{path}}})
		icancel()
		if err != nil {
			t.Fatal(err)
		}
		natstest.Eventually(t, time.Minute, "the batch is stored", func() bool {
			return value(t, probes, "dewire_sink_records_total", map[string]string{"outcome": "stored"}) == float64(10*(batch+1))
		})
	}
	if v := value(t, probes, "dewire_ingest_items_total", map[string]string{"outcome": "published"}); v != 20 {
		t.Errorf("ingest published %v, want 20", v)
	}
	if v := value(t, probes, "dewire_engine_requests_total", map[string]string{"engine": "instant", "outcome": "ok"}); v < 1 {
		t.Errorf("engine requests %v", v)
	}
	if v := value(t, probes, "dewire_engine_characters_total", map[string]string{"kind": "sent"}); v < 100 {
		t.Errorf("characters sent %v", v)
	}
	fromMemory := value(t, probes, "dewire_translate_segments_total", map[string]string{"source": "memory"})
	fromEngine := value(t, probes, "dewire_translate_segments_total", map[string]string{"source": "engine"})
	if fromMemory < 10 || fromEngine < 10 {
		t.Errorf("segments from memory %v, from the engine %v", fromMemory, fromEngine)
	}
}
