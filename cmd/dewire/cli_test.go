package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
)

// TestBadValuesAreRefusedBeforeAnythingStarts runs each mistake with a
// --data folder and proves the exit code is 2, the reason is one line that
// names the flag, and nothing was started (the store folder was never made).
func TestBadValuesAreRefusedBeforeAnythingStarts(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(in, []byte("Titel\n\nEin Absatz auf Deutsch.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string // in the reason
	}{
		{"an unknown progress mode", []string{"run", "--progress", "fancy", in}, `--progress "fancy": want auto, bar, plain or none`},
		{"no concurrency", []string{"run", "--concurrency", "0", in}, "--concurrency 0: want at least 1"},
		{"negative concurrency", []string{"worker", "normalize", "--concurrency", "-3"}, "--concurrency -3"},
		{"more bytes than a message can hold", []string{"run", "--max-bytes", "99999999999", in}, "--max-bytes 99999999999: want 1 to 8388608"},
		{"no bytes", []string{"worker", "ingest", "--max-bytes", "0", in}, "--max-bytes 0"},
		{"a bytes count that is no int", []string{"run", "--max-bytes", "99999999999999999999999", in}, "--max-bytes"},
		{"a NaN confidence", []string{"run", "--min-confidence", "NaN", in}, "--min-confidence NaN: want a number from 0 to 1"},
		{"a confidence above 1", []string{"worker", "ingest", "--min-confidence", "1.5", in}, "--min-confidence 1.5"},
		{"a port beyond 65535", []string{"run", "--listen", "127.0.0.1:99999", in}, `--listen "127.0.0.1:99999": port "99999" is not a number from 0 to 65535`},
		{"a bare port beyond 65535", []string{"run", "--listen", "70000", in}, `--listen "70000"`},
		{"an http port beyond 65535", []string{"run", "--http-addr", "127.0.0.1:65536", in}, "--http-addr"},
		{"a worker http port beyond 65535", []string{"worker", "sink", "--http-addr", ":99999"}, "--http-addr"},
		{"a metrics address without port", []string{"run", "--metrics-addr", "localhost", in}, "--metrics-addr"},
		{"a negative watch interval", []string{"run", "--watch", "--watch-interval", "-1s", in}, "--watch-interval -1s: want a positive duration"},
		{"a negative settle time", []string{"run", "--watch", "--watch-settle", "-5s", in}, "--watch-settle -5s: want a positive duration"},
		{"a negative feed interval", []string{"run", "--feed-interval", "-5m", in}, "--feed-interval -5m0s"},
		{"a negative grace", []string{"worker", "translate", "--grace", "-1s"}, "--grace -1s"},
		{"a negative pause probe", []string{"worker", "translate", "--pause-probe", "-30s"}, "--pause-probe -30s"},
		{"a negative progress interval", []string{"run", "--progress-interval", "-1s", in}, "--progress-interval -1s"},
		{"a negative clean max age", []string{"run", "--clean-max-age", "-1h", in}, "--clean-max-age -1h0m0s"},
		{"a negative body timeout", []string{"run", "--http-body-timeout", "-1s", in}, "--http-body-timeout -1s"},
		{"an unknown engine", []string{"run", "--engine", "babelfish", in}, `--engine "babelfish": want auto, none, ct2, deepl, libretranslate or openai`},
		{"an unknown compute type", []string{"run", "--compute-type", "int4", in}, `--compute-type "int4": want int8, int8_float32 or float32`},
		{"a worker's unknown compute type", []string{"worker", "translate", "--compute-type", "float16"}, `--compute-type "float16"`},
		{"an offline unknown compute type", []string{"translate", "--compute-type", "int16", in}, `--compute-type "int16"`},
		{"an unknown DeepL target", []string{"worker", "translate", "--deepl-target", "EN-AU"}, `--deepl-target "EN-AU"`},
		{"an unknown --only", []string{"worker", "normalize", "--only", "fr"}, `--only "fr": want de or en`},
		{"an unknown log level", []string{"run", "--log-level", "loud", in}, `--log-level "loud"`},
		{"an unknown log format", []string{"worker", "sink", "--log-format", "xml"}, `--log-format "xml"`},
		{"a feed that is no URL", []string{"run", "--feed", "agentur.example/rss"}, `--feed "agentur.example/rss": want an http or https URL`},
		{"a model index that is no http URL", []string{"model", "pull", "--index-url", "ftp://example.org/index.json"}, "--index-url"},
		{"a checksum that is no SHA-256", []string{"model", "pull", "--sha256", "abc"}, `--sha256 "abc": want 64 hex digits`},
		{"a package URL that is no URL", []string{"model", "pull", "--package-url", "de_en.argosmodel"}, "--package-url"},
		{"a worker without kind", []string{"worker"}, "worker: name a kind: ingest, normalize, translate or sink"},
		{"a mistyped command", []string{"rnu", in}, `unknown command "rnu" for "dewire"; did you mean run?`},
		{"a mistyped worker kind", []string{"worker", "ingset"}, `worker kind "ingset": want ingest, normalize, translate or sink; did you mean ingest?`},
		{"a mistyped flag", []string{"run", "--concurency", "4", in}, "unknown flag: --concurency; did you mean --concurrency?"},
		{"a mistyped worker flag", []string{"worker", "ingest", "--nats-ulr", "nats://x", in}, "did you mean --nats-url or --nats-user?"},
		{"a flag of another kind", []string{"worker", "sink", "--engine", "none"}, "unknown flag: --engine"},
		{"a mistyped model subcommand", []string{"model", "pul"}, "did you mean pull?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			args := append(append([]string(nil), tc.args...), "--data", data)
			if tc.args[0] != "run" {
				args = tc.args
			}
			code, _, stderr := dewire(t, context.Background(), "", args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 2 || !strings.HasPrefix(lines[0], "dewire: ") || !strings.HasPrefix(lines[1], "Run 'dewire") {
				t.Fatalf("want one line of reason and the help hint, got:\n%s", stderr)
			}
			if !strings.Contains(lines[0], tc.want) {
				t.Fatalf("reason %q lacks %q", lines[0], tc.want)
			}
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the store folder exists (%v): something started", err)
			}
		})
	}
}

func TestUsageHintNamesTheCommandThatWasMistyped(t *testing.T) {
	_, _, stderr := dewire(t, context.Background(), "", "worker", "ingest", "--watch-interval", "-2s", "x")
	if !strings.Contains(stderr, "Run 'dewire worker ingest --help' for usage.") {
		t.Fatalf("stderr: %s", stderr)
	}
}

func TestWorkerHelpShowsOnlyThatKindsFlags(t *testing.T) {
	shared := []string{"--nats-url", "--concurrency", "--grace", "--http-addr", "--metrics-addr", "--max-deliver"}
	for kind, c := range map[string]struct{ has, lacks []string }{
		"ingest":    {has: []string{"--watch", "--feed", "--max-bytes", "--source", "--http-token-file"}, lacks: []string{"--engine", "--out", "--only", "--style", "--pause-probe", "--tmx"}},
		"normalize": {has: []string{"--only", "--style"}, lacks: []string{"--engine", "--watch", "--out", "--feed", "--max-bytes", "--http-token-file"}},
		"translate": {has: []string{"--engine", "--model", "--deepl-url", "--pause-probe"}, lacks: []string{"--watch", "--out", "--only", "--style", "--feed", "--http-token-file"}},
		"sink":      {has: []string{"--out", "--tmx", "--postgres-dsn-file"}, lacks: []string{"--engine", "--watch", "--only", "--feed", "--max-bytes", "--http-auth"}},
	} {
		t.Run(kind, func(t *testing.T) {
			code, stdout, stderr := dewire(t, context.Background(), "", "worker", kind, "--help")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, f := range append(shared, c.has...) {
				if !strings.Contains(stdout, "  "+f+" ") {
					t.Errorf("help lacks %s", f)
				}
			}
			for _, f := range c.lacks {
				if strings.Contains(stdout, "  "+f+" ") {
					t.Errorf("help shows %s of another kind", f)
				}
			}
		})
	}
	t.Run("the worker command lists the kinds", func(t *testing.T) {
		_, stdout, _ := dewire(t, context.Background(), "", "worker", "--help")
		for _, k := range workerKinds {
			if !strings.Contains(stdout, "  "+k+" ") {
				t.Errorf("worker --help lacks %s:\n%s", k, stdout)
			}
		}
	})
}

func TestAMissingInputIsReportedBeforeThePipelineStarts(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nowhere", "artikel.txt")
	code, _, stderr := dewire(t, context.Background(), "", "run", "--data", filepath.Join(dir, "data"), "--engine", "none", missing)
	if code != 1 || !strings.Contains(stderr, "cannot read input "+missing+": no such file or directory") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the store folder exists (%v): the pipeline started", err)
	}
	t.Run("files named by flags are checked before anything starts", func(t *testing.T) {
		for _, args := range [][]string{
			{"run", "--data", filepath.Join(dir, "data"), "--engine", "ct2", "--model", missing, "-"},
			{"run", "--data", filepath.Join(dir, "data"), "--style", missing, "-"},
			{"run", "--data", filepath.Join(dir, "data"), "--listen", "0", "--listen-token-file", missing, "-"},
			{"worker", "translate", "--nats", "nats://127.0.0.1:1", "--engine", "ct2", "--model", missing},
			{"worker", "sink", "--nats", "nats://127.0.0.1:1", "--nats-creds", missing},
			{"worker", "ingest", "--nats", "nats://127.0.0.1:1", "--http-token-file", missing},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			code, _, stderr := dewire(t, ctx, "", args...)
			cancel()
			if code != 1 || !strings.Contains(stderr, "cannot read input "+missing) || strings.Contains(stderr, "nats:") {
				t.Errorf("%v: exit %d: %s", args, code, stderr)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "data")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the store folder exists (%v): the pipeline started", err)
		}
	})
	t.Run("an ingest worker reports it before connecting to NATS", func(t *testing.T) {
		// Port 1 refuses connections, and a worker retries NATS until stopped:
		// a prompt exit proves the file was checked first.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		code, _, stderr := dewire(t, ctx, "", "worker", "ingest", "--nats", "nats://127.0.0.1:1", "--http-addr", "", missing)
		if code != 1 || !strings.Contains(stderr, missing) || strings.Contains(stderr, "nats") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
}

// syncBuffer is a bytes.Buffer safe to read while a command writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAWorkerNamesTheNATSURLItCannotReachWithoutStackTraces(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- execute(ctx, []string{"worker", "normalize", "--nats", "nats://127.0.0.1:1", "--http-addr", ""}, strings.NewReader(""), &out, &errb)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errb.String(), "nats://127.0.0.1:1") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop after SIGTERM")
	}
	log := errb.String()
	if !strings.Contains(log, "nats://127.0.0.1:1") {
		t.Fatalf("the log does not name the URL it tried: %s", log)
	}
	if strings.Contains(log, "stacktrace") || strings.Contains(log, ".go:") {
		t.Fatalf("the log carries Go frames: %s", log)
	}
}

func TestOperatorLogsCarryNoStackTraces(t *testing.T) {
	for _, format := range []string{"json", "console"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := newLoggerTo(&globalFlags{logLevel: "info", logFormat: format}, &buf)
			if err != nil {
				t.Fatal(err)
			}
			log.Error("publish failed", zap.Error(errors.New("connection refused")))
			log.Sync()
			out := buf.String()
			if !strings.Contains(out, "publish failed") || !strings.Contains(out, "connection refused") {
				t.Fatalf("log: %s", out)
			}
			if strings.Contains(out, "stacktrace") || strings.Contains(out, "runtime/") || strings.Contains(out, "_test.go") {
				t.Fatalf("an error line carries a stack trace: %s", out)
			}
		})
	}
}
