package local_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/local"
)

// unconfirm turns the revision of id back into the state a run leaves when
// it is interrupted after the server stored the article but before the
// revision was confirmed.
func unconfirm(t *testing.T, dataDir, id string) {
	t.Helper()
	srv, err := bus.Embedded{StoreDir: filepath.Join(dataDir, "jetstream")}.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	}()
	ctx := waitCtx(t, 30*time.Second)
	nc, err := bus.Connect(ctx, bus.Conn{InProcess: srv}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, bus.BucketRevisions)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var r article.Revision
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Published {
		t.Fatalf("%s was never confirmed", id)
	}
	r.Published = false
	b, _ := json.Marshal(r)
	if _, err := kv.Put(ctx, id, b); err != nil {
		t.Fatal(err)
	}
}

func TestARunAfterAnInterruptedPublishFinishes(t *testing.T) {
	cfg := config(t, nil)
	in := t.TempDir()
	writeJSONL(t, in, 0, 20)
	p := start(t, cfg)
	ctx := waitCtx(t, 2*time.Minute)
	if err := p.Ingest(ctx, []string{in}, local.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx, nil); err != nil {
		t.Fatal(err)
	}
	var id string
	for _, r := range readSink(t, cfg.OutDir) {
		if r.Source.GUID == "guid-3" {
			id = r.ID
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	// The article is in the sink and its publish is still in the server's
	// duplicate window, but the revision store never heard it was published.
	unconfirm(t, cfg.DataDir, id)

	p2 := start(t, cfg)
	defer p2.Close()
	if err := p2.Ingest(ctx, []string{in}, local.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p2.Wait(wctx, nil); err != nil {
		t.Fatalf("the second run never finished: %v (stats %+v)", err, p2.Stats())
	}
	st := p2.Stats()
	if st.Read != 20 || st.Duplicates != 19 || st.Published != 1 || st.Clean != 1 || st.Pending() != 0 {
		t.Fatalf("stats %+v", st)
	}
	exactlyOnce(t, readSink(t, cfg.OutDir), 20)
}

func TestAChangedArticleWithAFreshStoreAndAnExistingSinkIsNotLost(t *testing.T) {
	cfg := config(t, nil)
	in := t.TempDir()
	write := func(body string) string {
		path := filepath.Join(in, "a.json")
		b, _ := json.Marshal(map[string]any{"url": "https://example.org/2026/bericht", "title": "Bericht über die Lage in der Region",
			"paragraphs": []string{body}})
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	run := func(dataDir, path string) local.Stats {
		t.Helper()
		c := cfg
		c.DataDir = dataDir
		p := start(t, c)
		defer p.Close()
		ctx := waitCtx(t, time.Minute)
		if err := p.Ingest(ctx, []string{path}, local.IngestOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(ctx, nil); err != nil {
			t.Fatal(err)
		}
		return p.Stats()
	}
	first := "Der Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt."
	second := "Der Präsident sagte am Dienstag in Baku, die Gespräche mit der Regierung seien gescheitert."
	run(t.TempDir(), write(first))
	st := run(t.TempDir(), write(second)) // a fresh --data, the same --out
	if st.Published != 1 || st.Clean != 1 {
		t.Fatalf("stats of the second run %+v", st)
	}
	recs := readSink(t, cfg.OutDir)
	bodies := map[int]string{}
	for _, r := range recs {
		bodies[r.Rev] = r.DE.Paragraphs[0]
	}
	if len(recs) != 2 || bodies[1] != first || bodies[2] != second {
		t.Fatalf("sink holds %d records: %v", len(recs), bodies)
	}
	t.Run("the same content once more, again on a fresh store, is a duplicate", func(t *testing.T) {
		st := run(t.TempDir(), write(second))
		if st.Duplicates != 1 || st.Published != 0 {
			t.Fatalf("stats %+v", st)
		}
		if n := len(readSink(t, cfg.OutDir)); n != 2 {
			t.Fatalf("sink holds %d records", n)
		}
	})
}
