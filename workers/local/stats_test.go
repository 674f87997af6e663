package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/mttest"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/local"
	"github.com/dewire/dewire/workers/tm"
)

// TestStatsCountBilledCharactersAndMemoryHits translates articles with a
// billing engine behind the translation memory, then the same texts under
// new ids: the first pass bills what the engine was sent, the second is
// served from the memory and bills nothing.
func TestStatsCountBilledCharactersAndMemoryHits(t *testing.T) {
	eng := &mttest.Engine{EngineName: "billing"}
	cfg := config(t, nil)
	cfg.Translator = nil
	cfg.NewTranslator = func(ctx context.Context, js jetstream.JetStream) (local.Translator, error) {
		mem, err := tm.NewKV(ctx, js, bus.BucketMemory)
		if err != nil {
			return nil, err
		}
		return &mt.Translator{Engine: eng, Memory: mem}, nil
	}
	p := start(t, cfg)
	defer p.Close()
	ctx := waitCtx(t, 60*time.Second)

	in := filepath.Join(t.TempDir(), "in")
	if err := p.Ingest(ctx, []string{writeJSONL(t, in, 0, 5)}, local.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx, nil); err != nil {
		t.Fatal(err)
	}
	first := p.Stats()
	sent := eng.Counts()
	if first.Clean != 5 || first.BilledChars == 0 || first.BilledChars != sent.Chars {
		t.Fatalf("after the first pass: %+v; the engine was sent %d characters", first, sent.Chars)
	}

	// The same texts under new ids.
	var b strings.Builder
	for i := range 5 {
		txt := germanArticle(i)
		line, _ := json.Marshal(map[string]any{"guid": fmt.Sprintf("again-%d", i), "title": txt.Title, "paragraphs": txt.Paragraphs, "source": "wire"})
		b.Write(line)
		b.WriteByte('\n')
	}
	again := filepath.Join(t.TempDir(), "again.jsonl")
	if err := os.WriteFile(again, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Ingest(ctx, []string{again}, local.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx, nil); err != nil {
		t.Fatal(err)
	}
	second := p.Stats()
	segments := 0
	for _, a := range readSink(t, cfg.OutDir) {
		if strings.HasPrefix(a.Source.GUID, "again-") && a.Engine != nil {
			segments += a.Engine.Segments
		}
	}
	if second.Clean != 10 || segments == 0 {
		t.Fatalf("after the second pass: %+v, %d segments", second, segments)
	}
	if got := second.MemoryHits - first.MemoryHits; got != segments {
		t.Errorf("%d memory hits in the second pass, want all %d segments", got, segments)
	}
	if second.BilledChars != first.BilledChars || eng.Counts().Chars != sent.Chars {
		t.Errorf("the second pass billed %d characters (engine sent %d more)", second.BilledChars-first.BilledChars, eng.Counts().Chars-sent.Chars)
	}
}
