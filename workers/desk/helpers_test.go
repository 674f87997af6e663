package desk_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/internal/schematest"
	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/pipeline/langid"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/desk"
	"github.com/dewire/dewire/workers/local"
)

// editorToken is the one editor's token in these tests.
const editorToken = "test-editor-token-0123456789"

// echoEngine is an engine that answers each German sentence with itself,
// quotation marks straightened: German name forms and straight quotes for
// the English normalizer to repair.
type echoEngine struct{}

func (echoEngine) Name() string      { return "echo" }
func (echoEngine) Model() string     { return "test" }
func (echoEngine) Limits() mt.Limits { return mt.Limits{MaxSegments: 50, MaxBytes: 128 << 10} }
func (echoEngine) Translate(_ context.Context, req mt.Request) (mt.Result, error) {
	out := make([]string, len(req.Segments))
	r := strings.NewReplacer("„", `"`, "“", `"`, "‚", "'", "‘", "'")
	for i, s := range req.Segments {
		out[i] = r.Replace(s)
	}
	return mt.Result{Translations: out, BilledChars: len(strings.Join(req.Segments, ""))}, nil
}

var (
	gateOnce sync.Once
	gate     *langid.Gate
	gateErr  error
)

// deskEnv is a running pipeline on an embedded server with a desk over it.
type deskEnv struct {
	p     *local.Pipeline
	desk  *desk.Desk
	names *normalize.DeskNames
	url   string
	in    string // folder of articles written by the test
}

// startDesk runs the pipeline with the seed and the bundled examples
// flowing through, and a desk over its clean stream.
func startDesk(t *testing.T) *deskEnv {
	t.Helper()
	seed := testenv.SharedFile(t, "seed", "article.de.txt")
	examples := filepath.Join(testenv.Root(t), "examples", "articles")
	gateOnce.Do(func() { gate, gateErr = langid.New(langid.Options{}) })
	if gateErr != nil {
		t.Fatal(gateErr)
	}
	de, err := normalize.New("de")
	if err != nil {
		t.Fatal(err)
	}
	en, err := normalize.New("en")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := &deskEnv{names: &normalize.DeskNames{}, in: filepath.Join(dir, "in")}
	if err := os.MkdirAll(env.in, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := local.Start(context.Background(), local.Config{
		DataDir: filepath.Join(dir, "data"), OutDir: filepath.Join(dir, "out"),
		Reader: &intake.Reader{Gate: gate}, NormDE: de, NormEN: en, DeskNames: env.names,
		Translator: &mt.Translator{Engine: echoEngine{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	env.p = p
	ctx := deadline(t, 2*time.Minute)
	if err := p.Ingest(ctx, []string{seed, examples}, local.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx, nil); err != nil {
		t.Fatalf("pipeline: %v (%+v)", err, p.Stats())
	}
	d, err := desk.New(p.JetStream(), desk.Options{Editors: map[string]string{editorToken: "Erika"}})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(srv.Close)
	env.desk, env.url = d, srv.URL
	select {
	case <-d.CaughtUp():
	case <-ctx.Done():
		t.Fatal("the desk never caught up with the clean stream")
	}
	return env
}

func deadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// ingest writes an article file (a new article) and waits until it is clean
// and the desk lists it: the desk reads the clean stream on its own, so the
// sink having it does not mean the desk does yet.
func (e *deskEnv) ingest(t *testing.T, name, text string) {
	t.Helper()
	listed := e.desk.Len()
	path := filepath.Join(e.in, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := deadline(t, time.Minute)
	if err := e.p.Ingest(ctx, []string{path}, local.IngestOptions{Source: "desk-test"}); err != nil {
		t.Fatal(err)
	}
	if err := e.p.Wait(ctx, nil); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 30*time.Second, "the desk to list "+name, func() bool { return e.desk.Len() > listed })
}

// getJSON fetches url into v, validating records against the schema when asked.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	ctx := deadline(t, 30*time.Second)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", url, resp.Status, body)
	}
	if strings.Contains(url, "/api/articles/") {
		schematest.Validate(t, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
