package desk_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	json "github.com/goccy/go-json"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/desk"
)

// benchArticles is how many records the clean stream holds in the benchmark.
const benchArticles = 100_000

var benchWords = []string{"Regierung", "Baku", "Gespräche", "Ministerium", "Grenze", "Wahl", "Gas", "Hafen", "Moskau", "Eriwan",
	"Tiflis", "Astana", "Taschkent", "Proteste", "Abkommen", "Getreide", "Preise", "Opposition", "Gipfel", "Armee"}

// fillClean publishes n synthetic clean records (20 sources, a flag on one
// in ten, words spread so that searches match a few percent).
func fillClean(b *testing.B, js jetstream.JetStream, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		w1, w2 := benchWords[i%len(benchWords)], benchWords[(i/len(benchWords))%len(benchWords)]
		src := fmt.Sprintf("agentur-%02d", i%20)
		para := fmt.Sprintf("Nach Angaben aus %s wurden die %s am Montag fortgesetzt; Meldung %d.", w1, w2, i)
		a := &article.Article{Schema: article.Schema, ID: fmt.Sprintf("%032x", i), Rev: 1,
			Source:   article.Source{Name: src, IngestedAt: start.Add(time.Duration(i) * time.Minute)},
			DE:       article.Text{Title: w1 + " und " + w2 + fmt.Sprintf(" Nr. %d", i), Paragraphs: []string{para}},
			EN:       &article.Text{Title: fmt.Sprintf("%s and %s no. %d", w1, w2, i), Paragraphs: []string{para}},
			Entities: []article.Entity{{ID: "e-" + w1, DE: w1, EN: w1}}}
		if i%10 == 0 {
			a.Flags = []article.Flag{{Code: "quote.opening_restored", Message: "check"}}
		}
		data, _ := json.Marshal(a)
		if _, err := js.PublishAsync(bus.Subject(bus.Clean, src), data); err != nil {
			b.Fatal(err)
		}
		if i%2000 == 1999 {
			select {
			case <-js.PublishAsyncComplete():
			case <-ctx.Done():
				b.Fatal("publishing the benchmark records timed out")
			}
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		b.Fatal("publishing the benchmark records timed out")
	}
}

// BenchmarkDesk100k measures listing and searching with 100,000 articles in
// the clean stream, through the HTTP handlers (JSON API and HTML list).
func BenchmarkDesk100k(b *testing.B) {
	node := natstest.Server(b)
	js := node.JetStream()
	topo := bus.DefaultTopology()
	topo.Storage = jetstream.MemoryStorage
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := topo.Ensure(ctx, js); err != nil {
		b.Fatal(err)
	}
	fillClean(b, js, benchArticles)
	d, err := desk.New(js, desk.Options{})
	if err != nil {
		b.Fatal(err)
	}
	begin := time.Now()
	go d.Run(ctx)
	select {
	case <-d.CaughtUp():
	case <-ctx.Done():
		b.Fatal("the desk did not catch up")
	}
	took := time.Since(begin)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.Logf("desk read %d records in %v; heap in use after GC %d MiB (the records, the server and the desk's index)", d.Len(), took, ms.HeapInuse>>20)
	if d.Len() != benchArticles {
		b.Fatalf("desk holds %d articles, want %d", d.Len(), benchArticles)
	}
	h := d.Handler()
	for _, bc := range []struct{ name, path string }{
		{"api first page", "/api/articles"},
		{"api page 1000 deep", "/api/articles?cursor=50000"},
		{"api by source", "/api/articles?source=agentur-07"},
		{"api by flag", "/api/articles?flag=quote.opening_restored"},
		{"api by entity", "/api/articles?entity=Baku"},
		{"api by date", "/api/articles?date=2026-02-15"},
		{"api search one word", "/api/articles?q=Tiflis"},
		{"api search two words", "/api/articles?q=Tiflis+Getreide"},
		{"api search rare", "/api/articles?q=77777"},
		{"api search no hit", "/api/articles?q=Honolulu"},
		{"html list", "/"},
		{"html search two words", "/?q=Tiflis+Getreide"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, bc.path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d", bc.path, rec.Code)
				}
			}
		})
	}
}
