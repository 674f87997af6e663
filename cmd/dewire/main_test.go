package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dewire/dewire/internal/schematest"
	"github.com/dewire/dewire/internal/testenv"

	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/sink"
)

// dewire runs the command line in-process and returns its exit code and output.
func dewire(t *testing.T, ctx context.Context, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := execute(ctx, args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func sinkRecords(t *testing.T, dir string) int {
	t.Helper()
	schematest.ValidateDir(t, dir) // every record a run writes meets schema/article.v1.json
	recs, err := sink.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

func TestExitCodes(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"version succeeds", []string{"version"}, 0},
		{"an unknown command is a usage error", []string{"frobnicate"}, 2},
		{"an unknown flag is a usage error", []string{"run", "--frobnicate"}, 2},
		{"run without inputs is a usage error", []string{"run"}, 2},
		{"an unknown worker kind is a usage error", []string{"worker", "painter"}, 2},
		{"a bad --lang is a usage error", []string{"normalize", "--lang", "fr", "-"}, 2},
		{"a missing file is a runtime failure", []string{"normalize", "/nonexistent/article.txt"}, 1},
		{"an unreachable NATS server is a runtime failure", []string{"setup", "--nats", "nats://127.0.0.1:1"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, errOut := dewire(t, ctx, "", tc.args...); code != tc.want {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.want, errOut)
			}
		})
	}
}

func TestRunOnTheBundledExamples(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	examples := filepath.Join(testenv.Root(t), "examples", "articles")
	code, stdout, stderr := dewire(t, context.Background(), "", "run", "--log-level", "error", "--data", filepath.Join(dir, "data"), "--out", out, "--engine", "none", examples)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "10 published, 10 clean, 3 rejected, 0 dead-lettered, 0 duplicates") {
		t.Fatalf("summary: %s", stdout)
	}
	if n := sinkRecords(t, out); n != 10 {
		t.Fatalf("%d records in the sink, want 10", n)
	}

	t.Run("a second run over the same store counts duplicates and sends nothing", func(t *testing.T) {
		code, stdout, _ := dewire(t, context.Background(), "", "run", "--log-level", "error", "--data", filepath.Join(dir, "data"), "--out", out, "--engine", "none", examples)
		if code != 0 || !strings.Contains(stdout, "0 published") || !strings.Contains(stdout, "10 duplicates") {
			t.Fatalf("exit %d: %s", code, stdout)
		}
		if n := sinkRecords(t, out); n != 10 {
			t.Fatalf("%d records in the sink, want 10", n)
		}
	})
	t.Run("stdin is an input too", func(t *testing.T) {
		body, err := os.ReadFile(filepath.Join(examples, "01-aliyev-paschinjan-grenze.txt"))
		if err != nil {
			t.Fatal(err)
		}
		changed := strings.Replace(string(body), "\n\n", "\n\nNeuer erster Absatz mit einer Ergänzung der Redaktion.\n\n", 1)
		code, stdout, stderr := dewire(t, context.Background(), changed, "run", "--log-level", "error", "--data", filepath.Join(dir, "data2"), "--out", filepath.Join(dir, "out2"), "--engine", "none", "-")
		if code != 0 || !strings.Contains(stdout, "1 published, 1 clean") {
			t.Fatalf("exit %d: %s %s", code, stdout, stderr)
		}
	})
}

func TestRunReadsItsFlagsFromTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DEWIRE_OUT", filepath.Join(dir, "env-out"))
	t.Setenv("DEWIRE_DATA", filepath.Join(dir, "env-data"))
	t.Setenv("DEWIRE_ENGINE", "none")
	t.Setenv("DEWIRE_LOG_LEVEL", "error")
	in := filepath.Join(dir, "in.txt")
	os.WriteFile(in, []byte("Bericht über die Lage\n\nDer Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt werden.\n"), 0o644)
	if code, _, stderr := dewire(t, context.Background(), "", "run", in); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := sinkRecords(t, filepath.Join(dir, "env-out")); n != 1 {
		t.Fatalf("%d records under $DEWIRE_OUT", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "env-data", "jetstream")); err != nil {
		t.Fatalf("store not under $DEWIRE_DATA: %v", err)
	}
	t.Run("a bad value in the environment is a usage error", func(t *testing.T) {
		t.Setenv("DEWIRE_CONCURRENCY", "many")
		if code, _, _ := dewire(t, context.Background(), "", "run", in); code != 2 {
			t.Fatalf("exit %d, want 2", code)
		}
	})
}

func TestNormalizeKeepsTheParagraphLayout(t *testing.T) {
	in := "Aliyev kündigte Gespräche an\n\nAliyev sagte, er habe keine Antwort erhalten “, sagte er.\n\nDas Ministerium schlug vor, dass er irregeführt werden könnte??\n"
	code, stdout, stderr := dewire(t, context.Background(), in, "normalize", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := intake.ParsePlain(in)
	got := intake.ParsePlain(stdout)
	if len(got.Paragraphs) != len(want.Paragraphs) {
		t.Fatalf("%d paragraphs out, %d in:\n%s", len(got.Paragraphs), len(want.Paragraphs), stdout)
	}
	if strings.Contains(stdout, "??") || !strings.Contains(stdout, "Alijew") {
		t.Fatalf("not normalized:\n%s", stdout)
	}
	t.Run("--json prints the record with its edits", func(t *testing.T) {
		code, stdout, _ := dewire(t, context.Background(), in, "normalize", "--json", "-")
		var rec struct {
			Edits []struct{ Rule, Before, After string }
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &rec) != nil || len(rec.Edits) == 0 {
			t.Fatalf("exit %d: %s", code, stdout)
		}
	})
}

// freePort returns a free loopback address.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestWorkersAgainstANATSServerProcessTheExamplesAndStopOnSIGTERM(t *testing.T) {
	addr := freePort(t)
	srv, err := bus.Embedded{StoreDir: t.TempDir(), Listen: addr}.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	url := "nats://" + addr
	ctx := context.Background()
	if code, stdout, stderr := dewire(t, ctx, "", "setup", "--nats", url, "--log-level", "error"); code != 0 || !strings.Contains(stdout, "ARTICLES_RAW") {
		t.Fatalf("setup exit %d: %s %s", code, stdout, stderr)
	}

	out := filepath.Join(t.TempDir(), "out")
	httpAddr := freePort(t)
	wctx, term := context.WithCancel(ctx)
	var wg sync.WaitGroup
	codes := make(chan string, 4)
	sinkDir := out
	for _, args := range [][]string{
		{"worker", "normalize", "--http-addr", httpAddr},
		{"worker", "translate", "--engine", "none", "--http-addr", ""},
		{"worker", "sink", "--out", out, "--http-addr", ""},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, stderr := dewire(t, wctx, "", append(args, "--nats", url, "--log-level", "error")...)
			codes <- fmt.Sprintf("%s: exit %d %s", args[1], code, stderr)
		}()
	}
	examples := filepath.Join(testenv.Root(t), "examples", "articles")
	if code, _, stderr := dewire(t, ctx, "", "worker", "ingest", "--nats", url, "--http-addr", "", "--log-level", "error", examples); code != 0 {
		t.Fatalf("ingest exit %d: %s", code, stderr)
	}
	deadline := time.Now().Add(60 * time.Second)
	for sinkRecords(t, out) < 10 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := sinkRecords(t, out); n != 10 {
		t.Fatalf("%d records in the sink, want 10", n)
	}

	t.Run("the probes answer", func(t *testing.T) {
		for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "dewire_stage_messages_total"} {
			resp, err := http.Get("http://" + httpAddr + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
				t.Errorf("%s: %d %.200s", path, resp.StatusCode, body)
			}
		}
	})

	t.Run("an ingest worker without files accepts POST /articles", func(t *testing.T) {
		ingestAddr := freePort(t)
		tokenFile := filepath.Join(t.TempDir(), "token")
		os.WriteFile(tokenFile, []byte("s3cret-token\n"), 0o600)
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, stderr := dewire(t, wctx, "", "worker", "ingest", "--nats", url, "--http-addr", ingestAddr, "--log-level", "error", "--http-token-file", tokenFile)
			codes <- fmt.Sprintf("ingest: exit %d %s", code, stderr)
		}()
		body := `{"guid":"posted-1","title":"Bericht über die Lage","paragraphs":["Der Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt."]}`
		var resp *http.Response
		var err error
		for i := 0; i < 200; i++ {
			// Until the worker is connected the address refuses or answers 503; a client retries both.
			req, _ := http.NewRequest(http.MethodPost, "http://"+ingestAddr+"/articles", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer s3cret-token")
			if resp, err = http.DefaultClient.Do(req); err == nil {
				if resp.StatusCode != http.StatusServiceUnavailable {
					break
				}
				resp.Body.Close()
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(out), `"outcome":"published"`) {
			t.Fatalf("%d %s", resp.StatusCode, out)
		}
		deadline := time.Now().Add(30 * time.Second)
		for sinkRecords(t, sinkDir) < 11 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if n := sinkRecords(t, sinkDir); n != 11 {
			t.Fatalf("%d records in the sink, want 11", n)
		}
	})

	term() // SIGTERM
	wg.Wait()
	close(codes)
	for c := range codes {
		if !strings.Contains(c, "exit 0") {
			t.Errorf("worker did not stop cleanly: %s", c)
		}
	}
}

func TestRunPollsAFeedOnce(t *testing.T) {
	rss := `<?xml version="1.0"?><rss version="2.0"><channel><title>Agentur</title>
<item><title>Bericht über die Lage</title><guid>feed-1</guid>
<description>&lt;p&gt;Der Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt.&lt;/p&gt;</description></item>
<item><title>Talks announced</title><guid>feed-2</guid><description>The president said on Monday that the talks with the government would continue next week.</description></item>
</channel></rss>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, rss) }))
	defer srv.Close()
	dir := t.TempDir()
	code, stdout, stderr := dewire(t, context.Background(), "", "run", "--log-level", "error", "--engine", "none",
		"--data", filepath.Join(dir, "data"), "--out", filepath.Join(dir, "out"), "--feed", srv.URL)
	if code != 0 || !strings.Contains(stdout, "2 read, 1 published, 1 clean, 1 rejected") {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
}
