package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
	"github.com/dewire/dewire/workers/worker"
)

// BenchmarkIngest runs the ingest worker alone through worker.Run over TCP
// to a real nats-server with file storage: b.N German articles from one
// JSONL file, or POSTed to /articles as JSON Lines bodies of 1,000 items
// by one client. It reports articles/s (start to the last PubAck and
// confirmation) and CPU per article.
//
//	go test -run '^$' -bench Ingest -benchtime 5000x ./workers/worker/
func BenchmarkIngest(b *testing.B) {
	b.Run("file", func(b *testing.B) {
		urls := ingestServer(b)
		in := filepath.Join(b.TempDir(), "articles.jsonl")
		writeArticles(b, in, b.N)
		cfg := worker.Config{Kind: worker.Ingest, Conn: bus.Conn{URL: urls}, Topology: bus.DefaultTopology(), Concurrency: 32, Grace: time.Second}
		cfg.Ingest = ingest.Options{Reader: &intake.Reader{}, Paths: []string{in}}
		cpu0 := cpuTime()
		b.ResetTimer()
		start := time.Now()
		if err := worker.Run(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
		reportIngest(b, time.Since(start), cpu0)
	})
	b.Run("http", func(b *testing.B) {
		urls := ingestServer(b)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		addr := loopbackAddr(b)
		cfg := worker.Config{Kind: worker.Ingest, Conn: bus.Conn{URL: urls}, Topology: bus.DefaultTopology(), Concurrency: 32, Grace: time.Second, HTTPAddr: addr}
		cfg.HTTP.Auth.NoAuth = true
		cfg.Ingest = ingest.Options{Reader: &intake.Reader{}, Serve: true}
		done := make(chan error, 1)
		go func() { done <- worker.Run(ctx, cfg) }()
		defer func() { cancel(); <-done }()
		bodies := articleBodies(b, b.N, 1000)
		post := func(body []byte) (int, error) {
			resp, err := http.Post("http://"+addr+"/articles?source=bench", "application/x-ndjson", bytes.NewReader(body))
			if err != nil {
				return 0, err
			}
			defer resp.Body.Close()
			var out struct{ Items []ingest.ItemResult }
			if resp.StatusCode != http.StatusOK {
				return resp.StatusCode, nil
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				return 0, err
			}
			for _, it := range out.Items {
				if it.Outcome != "published" {
					return 0, fmt.Errorf("line %d: %+v", it.Line, it)
				}
			}
			return resp.StatusCode, nil
		}
		// Ready once POST /articles answers (an empty body publishes nothing).
		deadline := time.Now().Add(time.Minute)
		for code, err := post(nil); code != http.StatusOK; code, err = post(nil) {
			if time.Now().After(deadline) {
				b.Fatalf("POST /articles not ready after a minute: %d %v", code, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		cpu0 := cpuTime()
		b.ResetTimer()
		start := time.Now()
		for _, body := range bodies {
			if code, err := post(body); code != http.StatusOK || err != nil {
				b.Fatalf("POST: %d %v", code, err)
			}
		}
		reportIngest(b, time.Since(start), cpu0)
	})
}

// loopbackAddr is a loopback address nothing listens on.
func loopbackAddr(b testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func ingestServer(b *testing.B) string {
	srv := natstest.Server(b)
	nc := natstest.Connect(b, srv.URL())
	if err := bus.DefaultTopology().Ensure(context.Background(), natstest.NewJetStream(b, nc)); err != nil {
		b.Fatal(err)
	}
	nc.Close()
	return srv.URL()
}

// articleBodies is n articles as JSON Lines, per items to a body.
func articleBodies(b *testing.B, n, per int) [][]byte {
	path := filepath.Join(b.TempDir(), "articles.jsonl")
	writeArticles(b, path, n)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var bodies [][]byte
	for len(data) > 0 {
		end := 0
		for i := 0; i < per && end < len(data); i++ {
			end += bytes.IndexByte(data[end:], '\n') + 1
		}
		bodies = append(bodies, data[:end])
		data = data[end:]
	}
	return bodies
}

func reportIngest(b *testing.B, elapsed, cpu0 time.Duration) {
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "articles/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N)/1000, "cpu-ms/article")
}
