package local_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/local"
	"github.com/dewire/dewire/workers/stage"
)

func TestThousandArticlesReachTheSinkExactlyOnce(t *testing.T) {
	cfg := config(t, nil)
	p := start(t, cfg)
	defer p.Close()
	in := t.TempDir()
	writeJSONL(t, in, 0, 1000)
	ctx := waitCtx(t, 3*time.Minute)
	if err := p.Ingest(ctx, []string{in}, local.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx, nil); err != nil {
		t.Fatalf("wait: %v (stats %+v)", err, p.Stats())
	}
	st := p.Stats()
	if st.Published != 1000 || st.Clean != 1000 || st.Rejected != 0 || st.DeadLettered != 0 {
		t.Fatalf("stats %+v", st)
	}
	recs := readSink(t, cfg.OutDir)
	exactlyOnce(t, recs, 1000)
	for _, r := range recs[:3] {
		if !r.HasFlag(article.FlagTranslationSkipped) || r.Rev != 1 || len(r.Trace) < 4 {
			t.Errorf("record %s: flags %v rev %d trace %d steps", r.Key(), r.Flags, r.Rev, len(r.Trace))
		}
	}

	t.Run("ingesting the same files again sends nothing and counts duplicates", func(t *testing.T) {
		before := p.Stats()
		if err := p.Ingest(ctx, []string{in}, local.IngestOptions{}); err != nil {
			t.Fatal(err)
		}
		st := p.Stats()
		if st.Duplicates-before.Duplicates != 1000 || st.Published != before.Published {
			t.Fatalf("stats %+v after %+v", st, before)
		}
	})
	t.Run("changed content of a known id becomes revision 2", func(t *testing.T) {
		path := filepath.Join(in, "rev.jsonl")
		os.WriteFile(path, []byte(`{"guid":"guid-7","title":"Bericht 7 über die Lage in der Region","paragraphs":["Der Präsident sagte am Dienstag in Baku, die Gespräche seien beendet worden und würden nicht fortgesetzt."]}`+"\n"), 0o644)
		if err := p.Ingest(ctx, []string{path}, local.IngestOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(ctx, nil); err != nil {
			t.Fatal(err)
		}
		var revs []int
		for _, r := range readSink(t, cfg.OutDir) {
			if r.Source.GUID == "guid-7" {
				revs = append(revs, r.Rev)
			}
		}
		if len(revs) != 2 || revs[0]+revs[1] != 3 {
			t.Fatalf("guid-7 revisions in sink: %v", revs)
		}
	})
}

func TestServerRestartOnTheSameStoreLosesAndDuplicatesNothing(t *testing.T) {
	// The translator lets 20 articles through and holds the rest, so the
	// pipeline is always stopped with articles in every stage.
	tr := &gatedTranslator{pass: 20, release: make(chan struct{})}
	cfg := config(t, tr)
	cfg.Grace = stage.NoGrace
	topo := bus.DefaultTopology()
	topo.AckWait = 2 * time.Second // abandoned messages come back soon after the restart
	// Held articles outlive the handler deadline (4 × the ack wait) again and
	// again while a loaded machine takes its time over the first 20; they
	// must not run out of deliveries, which is not what this test is about.
	topo.MaxDeliver = 10000
	cfg.Topology = &topo
	in := t.TempDir()
	writeJSONL(t, in, 0, 300)
	p := start(t, cfg)
	ctx := waitCtx(t, 8*time.Minute)
	if err := p.Ingest(ctx, []string{in}, local.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 3*time.Minute, "20 articles in the sink", func() bool { return p.Stats().Clean >= 20 })
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(readSink(t, cfg.OutDir)); n >= 300 {
		t.Fatalf("all %d articles reached the sink although the translator held them", n)
	}

	close(tr.release)
	p2 := start(t, cfg)
	defer p2.Close()
	// While the sink writes, its last line may be half written: count
	// whole lines until all are there, then read and check the records.
	natstest.Eventually(t, 4*time.Minute, "everything left in the streams drains into the sink", func() bool {
		return sinkLines(t, cfg.OutDir) >= 300
	})
	// Re-ingesting after the restart is all duplicates: the revisions survived.
	if err := p2.Ingest(ctx, []string{in}, local.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if st := p2.Stats(); st.Duplicates != 300 || st.Published != 0 {
		t.Fatalf("after restart: %+v", st)
	}
	exactlyOnce(t, readSink(t, cfg.OutDir), 300)
}

// gatedTranslator passes the first pass articles and holds the others until
// release is closed or their context ends.
type gatedTranslator struct {
	mu      sync.Mutex
	n       int
	pass    int
	release chan struct{}
}

func (g *gatedTranslator) Translate(ctx context.Context, a *article.Article) error {
	g.mu.Lock()
	g.n++
	held := g.n > g.pass
	g.mu.Unlock()
	if held {
		select {
		case <-g.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return (&mt.Translator{Engine: mt.None{}}).Translate(ctx, a)
}

func TestPoisonMessageIsDeadLetteredWithItsReasonAndReplayBringsItBack(t *testing.T) {
	tr := &failingTranslator{fail: "GIFT"}
	cfg := config(t, tr)
	p := start(t, cfg)
	defer p.Close()
	ctx := waitCtx(t, 2*time.Minute)
	js := p.JetStream()
	var junkSeq uint64

	t.Run("a message that is not an article goes to the DLQ at once", func(t *testing.T) {
		if _, err := js.Publish(ctx, "articles.raw.junk", []byte("{not json")); err != nil {
			t.Fatal(err)
		}
		m := nextDLQ(t, ctx, js, 0)
		junkSeq = m.Sequence
		if m.Header.Get(bus.HeaderStage) != article.StageNormalizeDE || !strings.Contains(m.Header.Get(bus.HeaderReason), "not an article record") {
			t.Fatalf("DLQ headers %v", m.Header)
		}
		if m.Header.Get(bus.HeaderDeliveries) != "1" {
			t.Fatalf("poison was retried: deliveries %s", m.Header.Get(bus.HeaderDeliveries))
		}
	})

	in := t.TempDir()
	os.WriteFile(filepath.Join(in, "a.json"), []byte(`{"guid":"poison-1","title":"GIFT: Bericht über die Lage","paragraphs":["Der Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt."]}`), 0o644)
	if err := p.Ingest(ctx, []string{in}, local.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.DeadLettered != 1 || st.Clean != 0 {
		t.Fatalf("stats %+v", st)
	}
	m := nextDLQ(t, ctx, js, junkSeq)
	if m.Header.Get(bus.HeaderStage) != article.StageTranslate || !strings.Contains(m.Header.Get(bus.HeaderReason), "engine refuses") {
		t.Fatalf("DLQ headers %v", m.Header)
	}

	t.Run("dewire replay sends it back to translation once the cause is fixed", func(t *testing.T) {
		tr.setFail("")
		got, err := p.Replay(ctx, stage.ReplayFilter{Stage: article.StageTranslate})
		if err != nil || len(got) != 1 || !strings.HasPrefix(got[0].Subject, "articles.normalized.") {
			t.Fatalf("replay = %+v, %v", got, err)
		}
		if err := p.Wait(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if st := p.Stats(); st.Replayed != 1 || st.Clean != 1 {
			t.Fatalf("stats after replay %+v", st)
		}
		for _, r := range readSink(t, cfg.OutDir) {
			if r.Source.GUID == "poison-1" {
				return
			}
		}
		t.Fatal("replayed article never reached the sink")
	})
	t.Run("the replayed message is gone from the DLQ", func(t *testing.T) {
		again, err := stage.Replay(ctx, js, stage.ReplayFilter{Stage: article.StageTranslate}, true)
		if err != nil || len(again) != 0 {
			t.Fatalf("second replay listing = %+v, %v", again, err)
		}
	})
}

func TestNonGermanAndMalformedInputsAreRejectedWithReasons(t *testing.T) {
	cfg := config(t, nil)
	p := start(t, cfg)
	defer p.Close()
	ctx := waitCtx(t, time.Minute)
	in := t.TempDir()
	files := map[string]string{
		"english.txt": "Aliyev announces talks with Putin\n\nAzerbaijan's president said on Monday that he had asked the Russian president how the missile reached the Armenian military, and that he had not received an answer yet.",
		"russian.txt": "Алиев заявил о переговорах\n\nПрезидент Азербайджана заявил в понедельник, что спросил российского президента о ракете, но так и не получил ответа.",
		"empty.txt":   "",
		"bad.json":    `{"title": "Bericht", "paragraphs": [1, 2]}`,
		"broken.json": `{"title": "Bericht",`,
		"binary.txt":  "Titel\n\nText mit \x00 Steuerzeichen und \xff\xfe kaputtem UTF-8.",
		"german.txt":  germanPlain(),
	}
	for name, body := range files {
		os.WriteFile(filepath.Join(in, name), []byte(body), 0o644)
	}
	if err := p.Ingest(ctx, []string{in}, local.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx, nil); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Read != len(files) || st.Rejected != len(files)-1 || st.Clean != 1 {
		t.Fatalf("stats %+v", st)
	}
	cons, err := p.JetStream().OrderedConsumer(ctx, bus.StreamRejected, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]string{}
	for range len(files) - 1 {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var r article.Article
		if err := json.Unmarshal(m.Data(), &r); err != nil || r.Reject == nil || r.Reject.Reason == "" {
			t.Fatalf("rejection record %s: %v", m.Data(), err)
		}
		codes[filepath.Base(r.Source.Path)] = r.Reject.Code
	}
	want := map[string]string{
		"english.txt": "lang.not_german", "russian.txt": "lang.not_german", "empty.txt": "input.empty",
		"bad.json": "input.bad_field", "broken.json": "input.bad_json",
	}
	for f, code := range want {
		if codes[f] != code {
			t.Errorf("%s rejected as %q, want %q", f, codes[f], code)
		}
	}
	if c := codes["binary.txt"]; c != "input.control_chars" && c != "input.invalid_utf8" {
		t.Errorf("binary.txt rejected as %q", c)
	}
}

func germanPlain() string {
	txt := germanArticle(42)
	return txt.Title + "\n\n" + strings.Join(txt.Paragraphs, "\n\n") + "\n"
}

// nextDLQ waits for a dead letter with a stream sequence above after.
func nextDLQ(t *testing.T, ctx context.Context, js jetstream.JetStream, after uint64) *jetstream.RawStreamMsg {
	t.Helper()
	stream, err := js.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		info, err := stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for seq := max(after+1, info.State.FirstSeq); info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
			if raw, err := stream.GetMsg(ctx, seq); err == nil {
				return raw
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("nothing reached the DLQ")
	return nil
}

// failingTranslator refuses articles whose title contains a marker.
type failingTranslator struct {
	mu   sync.Mutex
	fail string
}

func (f *failingTranslator) setFail(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = s
}

func (f *failingTranslator) Translate(ctx context.Context, a *article.Article) error {
	f.mu.Lock()
	marker := f.fail
	f.mu.Unlock()
	if marker != "" && strings.Contains(a.DE.Title, marker) {
		return &mt.Error{Engine: "test", Class: mt.ErrPermanent, Message: "engine refuses this text"}
	}
	return (&mt.Translator{Engine: mt.None{}}).Translate(ctx, a)
}
