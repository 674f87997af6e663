package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
	wnorm "github.com/dewire/dewire/workers/normalize"
	"github.com/dewire/dewire/workers/stage"
	"github.com/dewire/dewire/workers/worker"
)

func germanJSON(i int) []byte {
	b, _ := json.Marshal(map[string]any{
		"guid":  fmt.Sprintf("watch-%d", i),
		"title": fmt.Sprintf("Bericht %d über die Lage", i),
		"paragraphs": []string{
			fmt.Sprintf("Der Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt. Meldung %d.", i),
			"Nach Angaben des Ministeriums wurden in der Region mehrere Dörfer evakuiert.",
		},
	})
	return b
}

// drop writes a file the way a producer should: under a hidden name, then renamed into place.
func drop(t *testing.T, dir string, i int) {
	t.Helper()
	tmp := filepath.Join(dir, fmt.Sprintf(".a-%d.json.tmp", i))
	if err := os.WriteFile(tmp, germanJSON(i), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute) // past the watcher's still-being-written check
	if err := os.Chtimes(tmp, old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, fmt.Sprintf("a-%d.json", i))); err != nil {
		t.Fatal(err)
	}
}

// rawIDs reads the ids of every article in ARTICLES_RAW.
func rawIDs(t *testing.T, js jetstream.JetStream) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, bus.StreamRaw)
	if err != nil {
		return nil
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil
	}
	ids := map[string]bool{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		ids[m.Header.Get(bus.HeaderID)] = true
	}
	return ids
}

func readyz(p *worker.Probes) int {
	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return rec.Code
}

func metric(p *worker.Probes, name string) float64 {
	mfs, err := p.Registry.Gather()
	if err != nil {
		return -1
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

func TestIngestWatchKeepsWatchingThroughANATSOutage(t *testing.T) {
	srv := natstest.Server(t)
	js := srv.JetStream()
	if err := bus.DefaultTopology().Ensure(context.Background(), js); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	core, logs := observer.New(zap.WarnLevel)
	probes := worker.NewProbes()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- worker.Run(ctx, worker.Config{
			Kind: worker.Ingest, Conn: bus.Conn{URL: srv.URL()}, Concurrency: 4, Log: zap.New(core), Probes: probes,
			Ingest: ingest.Options{Paths: []string{dir}, Watch: 100 * time.Millisecond, Serve: true, PublishTimeout: time.Second},
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	drop(t, dir, 1)
	natstest.Eventually(t, 20*time.Second, "the first file is published", func() bool { return len(rawIDs(t, js)) == 1 })
	natstest.Eventually(t, 10*time.Second, "ready while NATS is up", func() bool { return readyz(probes) == http.StatusOK })

	srv.Shutdown()
	drop(t, dir, 2) // lands while NATS is down
	natstest.Eventually(t, 30*time.Second, "the outage shows on /readyz", func() bool { return readyz(probes) == http.StatusServiceUnavailable })
	natstest.Eventually(t, 30*time.Second, "failed publishes are counted", func() bool {
		return metric(probes, "dewire_ingest_publish_errors_total") > 0
	})
	natstest.Eventually(t, 10*time.Second, "the outage is logged", func() bool {
		return logs.FilterMessage("publish failed; retrying").Len() > 0
	})
	select {
	case err := <-done:
		t.Fatalf("the ingest worker stopped during the outage: %v", err)
	default:
	}

	srv.Start()
	drop(t, dir, 3) // lands after the outage
	js = srv.JetStream()
	natstest.Eventually(t, 60*time.Second, "every file is published, also the one that landed during the outage", func() bool {
		ids := rawIDs(t, js)
		return len(ids) == 3
	})
	natstest.Eventually(t, 20*time.Second, "ready again", func() bool { return readyz(probes) == http.StatusOK })
}

func TestWorkerWaitsForNATSInsteadOfExiting(t *testing.T) {
	srv := natstest.Server(t)
	srv.Shutdown() // nothing listens on its port until Start
	de, err := normalize.New("de")
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.WarnLevel)
	probes := worker.NewProbes()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- worker.Run(ctx, worker.Config{
			Kind: worker.Normalize, Conn: bus.Conn{URL: srv.URL()}, Concurrency: 2, Log: zap.New(core), Probes: probes,
			Normalize: wnorm.Options{DE: de},
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	natstest.Eventually(t, 20*time.Second, "the unreachable server is logged with its URL", func() bool {
		for _, e := range logs.FilterMessage("nats unreachable; retrying").All() {
			if strings.Contains(fmt.Sprint(e.ContextMap()["error"]), srv.URL()) {
				return true
			}
		}
		return false
	})
	if code := readyz(probes); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d while NATS is unreachable", code)
	}

	// The server comes up without the topology: the worker waits for `dewire setup` too.
	srv.Start()
	natstest.Eventually(t, 30*time.Second, "a missing consumer is logged and retried", func() bool {
		return logs.FilterMessageSnippet("stage normalize-de failed; retrying").Len() > 0
	})
	if code := readyz(probes); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d before the consumer exists", code)
	}
	js := srv.JetStream()
	if err := bus.DefaultTopology().Ensure(context.Background(), js); err != nil {
		t.Fatal(err)
	}
	publishRaw(t, js, "w1")
	natstest.Eventually(t, 60*time.Second, "the worker normalizes once setup has run", func() bool {
		st, err := js.Stream(context.Background(), bus.StreamNormalized)
		if err != nil {
			return false
		}
		info, err := st.Info(context.Background())
		return err == nil && info.State.Msgs == 1
	})
	natstest.Eventually(t, 20*time.Second, "ready", func() bool { return readyz(probes) == http.StatusOK })
	select {
	case err := <-done:
		t.Fatalf("the worker exited: %v", err)
	default:
	}
}

func outMsg(o stage.Out) *nats.Msg {
	return &nats.Msg{Subject: o.Subject, Data: o.Data, Header: o.Header}
}

// publishRaw publishes a German article with spacing errors to articles.raw.
func publishRaw(t *testing.T, js jetstream.JetStream, id string) {
	t.Helper()
	a := &article.Article{Schema: article.Schema, ID: id, Rev: 1, Source: article.Source{Name: "wire"},
		DE: article.Text{Title: "Bericht", Paragraphs: []string{"Der Sprecher sagte ,es gebe keine Antwort ."}}}
	out, err := stage.ArticleOut(bus.Raw, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.PublishMsg(context.Background(), outMsg(out), jetstream.WithMsgID(out.MsgID)); err != nil {
		t.Fatal(err)
	}
}

// TestWorkerRecoversWhenItsStreamIsRecreated removes a normalize worker's
// input stream and consumer under it, as an operator cleaning up with
// `nats stream rm` does, then runs set-up again: the worker must notice,
// report it on /readyz, bind the new consumer and normalize what arrives
// next, without a restart.
func TestWorkerRecoversWhenItsStreamIsRecreated(t *testing.T) {
	srv := natstest.Server(t)
	js := srv.JetStream()
	topo := bus.DefaultTopology()
	if err := topo.Ensure(context.Background(), js); err != nil {
		t.Fatal(err)
	}
	de, err := normalize.New("de")
	if err != nil {
		t.Fatal(err)
	}
	probes := worker.NewProbes()
	core, logs := observer.New(zap.WarnLevel)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- worker.Run(ctx, worker.Config{
			Kind: worker.Normalize, Conn: bus.Conn{URL: srv.URL()}, Concurrency: 2, Probes: probes, Log: zap.New(core),
			Normalize: wnorm.Options{DE: de},
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	normalized := func() uint64 {
		st, err := js.Stream(context.Background(), bus.StreamNormalized)
		if err != nil {
			return 0
		}
		info, err := st.Info(context.Background())
		if err != nil {
			return 0
		}
		return info.State.Msgs
	}
	publishRaw(t, js, "before")
	natstest.Eventually(t, 30*time.Second, "the first article is normalized", func() bool { return normalized() == 1 })

	if err := js.DeleteStream(context.Background(), bus.StreamRaw); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 60*time.Second, "/readyz reports the missing consumer", func() bool {
		return readyz(probes) == http.StatusServiceUnavailable
	})
	if logs.FilterMessage("the consumer is gone; binding it again").Len() == 0 {
		t.Error("the lost consumer is not logged")
	}
	if err := topo.Ensure(context.Background(), js); err != nil {
		t.Fatal(err)
	}
	publishRaw(t, js, "after")
	natstest.Eventually(t, 90*time.Second, "an article published after set-up ran again is normalized", func() bool { return normalized() == 2 })
	natstest.Eventually(t, 30*time.Second, "ready again", func() bool { return readyz(probes) == http.StatusOK })
	select {
	case err := <-done:
		t.Fatalf("the worker exited: %v", err)
	default:
	}
}
