package ingest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
	"github.com/dewire/dewire/workers/stage"
)

func TestSkippedInputsAndFailingFeedsAreCounted(t *testing.T) {
	js := natstest.Server(t).JetStream()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := bus.DefaultTopology().Ensure(ctx, js); err != nil {
		t.Fatal(err)
	}
	missing := httptest.NewServer(http.NotFoundHandler())
	defer missing.Close()
	reg := prometheus.NewRegistry()
	g, err := ingest.New(ctx, stage.Env{JS: js, Registry: reg, Concurrency: 1}, ingest.Options{
		Reader: &intake.Reader{}, Feeds: []string{missing.URL + "/rss"}, FeedInterval: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	dir := t.TempDir()
	writeOld(t, filepath.Join(dir, "a.txt"), "Titel\n\nText.\n")
	writeOld(t, filepath.Join(dir, ".entwurf.txt"), "Titel\n\nEntwurf.\n")
	syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644)
	os.Symlink(".", filepath.Join(dir, "self"))
	if err := g.Read(ctx, ingest.Input{Paths: []string{dir}}); err != nil {
		t.Fatal(err)
	}
	g.Flush()
	for reason, want := range map[string]float64{ingest.SkipHidden: 1, ingest.SkipNotRegular: 1, ingest.SkipLoop: 1, ingest.SkipSameFile: 0} {
		if got := gatheredLabel(t, reg, "dewire_ingest_skipped_total", "reason", reason); got != want {
			t.Errorf("dewire_ingest_skipped_total{reason=%q} = %v, want %v", reason, got, want)
		}
	}

	t.Run("once, a missing feed is an error", func(t *testing.T) {
		if err := g.PollFeeds(ctx, true); err == nil {
			t.Fatal("no error for a 404 feed")
		}
	})
	t.Run("watching, every failed poll is counted and polling goes on", func(t *testing.T) {
		wctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- g.PollFeeds(wctx, false) }()
		natstest.Eventually(t, 30*time.Second, "three more failed polls counted", func() bool {
			return gathered(t, reg, "dewire_ingest_feed_errors_total") >= 4
		})
		stop()
		if err := <-done; err != nil {
			t.Fatalf("PollFeeds ended with %v", err)
		}
	})
}

func gathered(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	return gatheredLabel(t, reg, name, "", "")
}

// gatheredLabel sums the series of name (with label = value, when given).
func gatheredLabel(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			match := label == ""
			for _, lp := range m.Label {
				if lp.GetName() == label && lp.GetValue() == value {
					match = true
				}
			}
			if match {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func TestAnEditedFileIsPublishedAsTheNextRevision(t *testing.T) {
	js := natstest.Server(t).JetStream()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := bus.DefaultTopology().Ensure(ctx, js); err != nil {
		t.Fatal(err)
	}
	type published struct {
		id  string
		rev int
		out ingest.Outcome
	}
	var got []published
	g, err := ingest.New(ctx, stage.Env{JS: js, Concurrency: 1}, ingest.Options{
		Reader: &intake.Reader{},
		Events: ingest.Events{Outcome: func(it intake.Item, out ingest.Outcome) {
			if it.Article != nil {
				got = append(got, published{it.Article.ID, it.Article.Rev, out})
			}
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "meldung.txt")
	for _, body := range []string{"Titel\n\nErste Fassung.\n", "Titel\n\nZweite Fassung.\n", "Titel\n\nZweite Fassung.\n"} {
		writeOld(t, path, body)
		if err := g.Read(ctx, ingest.Input{Paths: []string{dir}}); err != nil {
			t.Fatal(err)
		}
		g.Flush()
	}
	if len(got) != 3 || got[0].id != got[1].id || got[0].rev != 1 || got[1].rev != 2 || got[2].out != ingest.Duplicate {
		t.Fatalf("outcomes %+v: want rev 1, rev 2 of one id, then a duplicate", got)
	}
}
