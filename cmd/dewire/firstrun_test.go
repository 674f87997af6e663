package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/pipeline/modelstore"
	"github.com/dewire/dewire/workers/sink"
)

// argosPackage builds an Argos Translate package for de→en around the
// CTranslate2 fixture model in ../shared (its vocabulary is not German, but
// it is a real model the ct2 engine runs).
func argosPackage(t *testing.T) []byte {
	t.Helper()
	model := testenv.SharedFile(t, "fixtures", "ct2", "v2", "aren-transliteration")
	meta, err := json.Marshal(modelstore.Metadata{PackageVersion: "1.9", ArgosVersion: "1.9.0",
		FromCode: "de", FromName: "German", ToCode: "en", ToName: "English"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, body []byte) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(body)
	}
	add("translate-de_en-1_9/metadata.json", meta)
	entries, err := os.ReadDir(model)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		body, err := os.ReadFile(filepath.Join(model, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		add("translate-de_en-1_9/model/"+e.Name(), body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// modelServer serves an Argos index and the package; downloads counts GETs of it.
func modelServer(t *testing.T, pkg []byte, sum string) (srv *httptest.Server, downloads *atomic.Int32) {
	t.Helper()
	downloads = new(atomic.Int32)
	mux := http.NewServeMux()
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	mux.HandleFunc("/index.json", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode([]modelstore.IndexEntry{{
			Code: "translate-de_en", PackageVersion: "1.9", ArgosVersion: "1.9.0",
			FromCode: "de", FromName: "German", ToCode: "en", ToName: "English",
			Links: []string{srv.URL + "/translate-de_en-1_9.argosmodel"}, SHA256: sum,
		}})
	})
	mux.HandleFunc("/translate-de_en-1_9.argosmodel", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			downloads.Add(1)
		}
		http.ServeContent(w, r, "translate-de_en-1_9.argosmodel", time.Time{}, bytes.NewReader(pkg))
	})
	return srv, downloads
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// firstRunEnv is a machine with no model and no service credentials.
func firstRunEnv(t *testing.T) (modelDir, in string) {
	t.Helper()
	modelDir = filepath.Join(t.TempDir(), "models")
	t.Setenv("DEWIRE_MODEL_DIR", modelDir)
	for _, k := range []string{"DEWIRE_DEEPL_AUTH_KEY", "DEWIRE_LIBRETRANSLATE_URL", "DEWIRE_OPENAI_URL", "DEWIRE_ENGINE", "DEWIRE_MODEL", "DEWIRE_PULL_MODEL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	in = filepath.Join(t.TempDir(), "artikel.txt")
	if err := os.WriteFile(in, []byte("Bericht über die Lage\n\nDer Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt werden.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return modelDir, in
}

// engines returns the engine names of the records under out.
func recordEngines(t *testing.T, out string) []string {
	t.Helper()
	recs, err := sink.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range recs {
		name := "?"
		if r.Engine != nil {
			name = r.Engine.Name
		}
		names = append(names, name)
	}
	return names
}

func TestFirstRunOnATerminalAsksDownloadsTheModelAndTranslates(t *testing.T) {
	pkg := argosPackage(t)
	srv, downloads := modelServer(t, pkg, sha(pkg))
	modelDir, in := firstRunEnv(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	term := newTerminal(t)
	go func() {
		// Answer the question once it is asked.
		term.waitFor(t, "[Y/n] ")
		term.ptmx.Write([]byte("y\n"))
	}()
	code, screen := term.run(t, context.Background(), "run", "--data", filepath.Join(dir, "data"), "--out", out,
		"--model-index-url", srv.URL+"/index.json", in)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, screen)
	}
	lines := screenLines(screen)
	joined := strings.Join(lines, "\n")
	size := sizeText(int64(len(pkg)))
	if !strings.Contains(joined, "Download the German→English model 1.9 ("+size+") from "+strings.TrimPrefix(srv.URL, "http://")+" into "+modelDir+"? [Y/n]") {
		t.Fatalf("the question does not show the size and the folder:\n%s", joined)
	}
	if strings.Count(screen, "[Y/n]") != 1 {
		t.Fatalf("asked more than once:\n%s", joined)
	}
	if !strings.Contains(joined, "installed "+filepath.Join(modelDir, "translate-de_en-1_9.argosmodel")+" (sha256 "+sha(pkg)[:12]+" verified)") {
		t.Fatalf("no checksum line:\n%s", joined)
	}
	if downloads.Load() != 1 {
		t.Fatalf("%d downloads", downloads.Load())
	}
	var progress bool
	for _, l := range lines {
		progress = progress || (strings.Contains(l, "iB / ") && strings.Contains(l, "[#") && strings.Contains(l, "ETA"))
	}
	if !progress {
		t.Fatalf("no download progress on the terminal:\n%s", joined)
	}
	if strings.Contains(joined, "no translation engine configured") {
		t.Fatalf("the run fell back to none:\n%s", joined)
	}
	if got := recordEngines(t, out); len(got) != 1 || got[0] != "ct2" {
		t.Fatalf("records translated by %q, want one by ct2", got)
	}

	t.Run("the next run finds the model and asks nothing", func(t *testing.T) {
		term := newTerminal(t)
		code, screen := term.run(t, context.Background(), "run", "--data", filepath.Join(dir, "data2"), "--out", filepath.Join(dir, "out2"),
			"--model-index-url", srv.URL+"/index.json", in)
		if code != 0 || strings.Contains(screen, "[Y/n]") || downloads.Load() != 1 {
			t.Fatalf("exit %d, %d downloads:\n%s", code, downloads.Load(), strings.Join(screenLines(screen), "\n"))
		}
	})
}

func TestFirstRunOnATerminalTakesNoForAnAnswer(t *testing.T) {
	pkg := argosPackage(t)
	srv, downloads := modelServer(t, pkg, sha(pkg))
	modelDir, in := firstRunEnv(t)
	dir := t.TempDir()
	term := newTerminal(t)
	go func() {
		term.waitFor(t, "[Y/n] ")
		term.ptmx.Write([]byte("n\n"))
	}()
	code, screen := term.run(t, context.Background(), "run", "--data", filepath.Join(dir, "data"), "--out", filepath.Join(dir, "out"),
		"--model-index-url", srv.URL+"/index.json", in)
	joined := strings.Join(screenLines(screen), "\n")
	if code != 0 || downloads.Load() != 0 {
		t.Fatalf("exit %d, %d downloads:\n%s", code, downloads.Load(), joined)
	}
	if _, ok := modelstore.Installed(modelDir, "de", "en"); ok {
		t.Fatal("a model was installed after no")
	}
	if !strings.Contains(joined, "no translation engine configured") {
		t.Fatalf("no hint after no:\n%s", joined)
	}
	if got := recordEngines(t, filepath.Join(dir, "out")); len(got) != 1 || got[0] != "none" {
		t.Fatalf("records by %q", got)
	}
}

func TestFirstRunWithoutATerminal(t *testing.T) {
	pkg := argosPackage(t)
	srv, downloads := modelServer(t, pkg, sha(pkg))
	t.Run("does not ask and falls back to none with the hint", func(t *testing.T) {
		_, in := firstRunEnv(t)
		dir := t.TempDir()
		code, _, stderr := dewire(t, context.Background(), "y\n", "run", "--data", filepath.Join(dir, "data"), "--out", filepath.Join(dir, "out"),
			"--model-index-url", srv.URL+"/index.json", in)
		if code != 0 || strings.Contains(stderr, "[Y/n]") || downloads.Load() != 0 {
			t.Fatalf("exit %d, %d downloads: %s", code, downloads.Load(), stderr)
		}
		if strings.Count(stderr, "no translation engine configured") != 1 {
			t.Fatalf("want the hint once: %s", stderr)
		}
	})
	t.Run("--pull-model downloads without asking", func(t *testing.T) {
		modelDir, in := firstRunEnv(t)
		dir := t.TempDir()
		code, _, stderr := dewire(t, context.Background(), "", "run", "--pull-model", "--data", filepath.Join(dir, "data"), "--out", filepath.Join(dir, "out"),
			"--model-index-url", srv.URL+"/index.json", in)
		if code != 0 || strings.Contains(stderr, "[Y/n]") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if _, ok := modelstore.Installed(modelDir, "de", "en"); !ok {
			t.Fatalf("no model installed: %s", stderr)
		}
		if got := recordEngines(t, filepath.Join(dir, "out")); len(got) != 1 || got[0] != "ct2" {
			t.Fatalf("records by %q", got)
		}
	})
	t.Run("--pull-model without network falls back to none with the hint", func(t *testing.T) {
		modelDir, in := firstRunEnv(t)
		dir := t.TempDir()
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close() // nothing listens there any more
		code, _, stderr := dewire(t, context.Background(), "", "run", "--pull-model", "--data", filepath.Join(dir, "data"), "--out", filepath.Join(dir, "out"),
			"--model-index-url", gone.URL+"/index.json", in)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(stderr, "cannot reach "+strings.TrimPrefix(gone.URL, "http://")) || strings.Count(stderr, "no translation engine configured") != 1 {
			t.Fatalf("stderr: %s", stderr)
		}
		if _, ok := modelstore.Installed(modelDir, "de", "en"); ok {
			t.Fatal("a model was installed")
		}
	})
	t.Run("a download that fails its checksum stops the run", func(t *testing.T) {
		bad, _ := modelServer(t, pkg, strings.Repeat("0", 64))
		modelDir, in := firstRunEnv(t)
		dir := t.TempDir()
		code, _, stderr := dewire(t, context.Background(), "", "run", "--pull-model", "--data", filepath.Join(dir, "data"), "--out", filepath.Join(dir, "out"),
			"--model-index-url", bad.URL+"/index.json", in)
		if code != 1 || !strings.Contains(stderr, "checksum mismatch") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if _, ok := modelstore.Installed(modelDir, "de", "en"); ok {
			t.Fatal("a package with the wrong checksum was installed")
		}
		if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
			t.Fatal("the pipeline started")
		}
	})
}
