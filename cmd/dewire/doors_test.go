package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestAnHTTPOnlyIngestWorkerWithoutCredentialsIsAUsageError(t *testing.T) {
	code, _, stderr := dewire(t, context.Background(), "", "worker", "ingest", "--nats", "nats://127.0.0.1:1", "--http-addr", freePort(t))
	if code != 2 || !strings.Contains(stderr, "--http-auth none") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, _, stderr = dewire(t, context.Background(), "", "worker", "ingest", "--nats", "nats://127.0.0.1:1", "--http-addr", freePort(t), "--http-auth", "open")
	if code != 2 || !strings.Contains(stderr, "--http-auth") {
		t.Fatalf("a bad --http-auth: exit %d: %s", code, stderr)
	}
}

func TestRunFailsOnAFeedThatIsMissingAndStillReadsTheOthers(t *testing.T) {
	rss := `<?xml version="1.0"?><rss version="2.0"><channel><title>Agentur</title>
<item><title>Bericht über die Lage</title><guid>feed-1</guid>
<description>&lt;p&gt;Der Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt.&lt;/p&gt;</description></item>
</channel></rss>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rss" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, rss)
	}))
	defer srv.Close()
	dir := t.TempDir()
	code, stdout, stderr := dewire(t, context.Background(), "", "run", "--log-level", "error", "--engine", "none",
		"--data", filepath.Join(dir, "data"), "--out", filepath.Join(dir, "out"), "--feed", srv.URL+"/missing", "--feed", srv.URL+"/rss")
	if code != 1 || !strings.Contains(stderr, "HTTP 404") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "1 clean") {
		t.Fatalf("the good feed's article did not reach the sink: %s", stdout)
	}
}

func TestRunListenRequiresTheToken(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte("t0ken\n"), 0o600)
	inbox := filepath.Join(dir, "inbox")
	os.Mkdir(inbox, 0o755)
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan string, 1)
	go func() {
		code, _, stderr := dewire(t, ctx, "", "run", "--log-level", "error", "--engine", "none", "--watch",
			"--data", filepath.Join(dir, "data"), "--out", filepath.Join(dir, "out"),
			"--listen", addr, "--listen-token-file", tokenFile, inbox)
		done <- fmt.Sprintf("exit %d %s", code, stderr)
	}()
	defer func() {
		cancel()
		select {
		case res := <-done:
			if !strings.HasPrefix(res, "exit 0") {
				t.Errorf("run: %s", res)
			}
		case <-time.After(60 * time.Second):
			t.Error("run did not stop")
		}
	}()
	var nc *nats.Conn
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if nc, err = nats.Connect("nats://"+addr, nats.Token("t0ken"), nats.Timeout(2*time.Second)); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("with the token: %v", err)
	}
	nc.Close()
	// Wait until the pipeline runs: an article dropped into the inbox reaches the sink.
	os.WriteFile(filepath.Join(inbox, "a.json"), []byte(`{"guid":"l-1","title":"Bericht über die Lage","paragraphs":["Der Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt."]}`), 0o644)
	for deadline := time.Now().Add(60 * time.Second); sinkRecords(t, filepath.Join(dir, "out")) < 1 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if sinkRecords(t, filepath.Join(dir, "out")) != 1 {
		t.Fatal("the watched article did not reach the sink")
	}
	if nc, err := nats.Connect("nats://"+addr, nats.Timeout(2*time.Second)); err == nil {
		nc.Close()
		t.Fatal("a client without the token connected")
	}
	if nc, err := nats.Connect("nats://"+addr, nats.Token("guess"), nats.Timeout(2*time.Second)); err == nil {
		nc.Close()
		t.Fatal("a client with a wrong token connected")
	}
}
