package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dewire/dewire/internal/schematest"
	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/pipeline/langid"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/local"
	"github.com/dewire/dewire/workers/sink"
)

var (
	gateOnce sync.Once
	gate     *langid.Gate
	gateErr  error
)

func sharedGate(t testing.TB) *langid.Gate {
	gateOnce.Do(func() { gate, gateErr = langid.New(langid.Options{}) })
	if gateErr != nil {
		t.Fatal(gateErr)
	}
	return gate
}

// config returns a pipeline config over temp folders.
func config(t testing.TB, tr local.Translator) local.Config {
	t.Helper()
	de, err := normalize.New("de")
	if err != nil {
		t.Fatal(err)
	}
	en, err := normalize.New("en")
	if err != nil {
		t.Fatal(err)
	}
	if tr == nil {
		tr = &mt.Translator{Engine: mt.None{}}
	}
	dir := t.TempDir()
	return local.Config{
		DataDir: filepath.Join(dir, "data"), OutDir: filepath.Join(dir, "out"),
		Reader: &intake.Reader{Gate: sharedGate(t)},
		NormDE: de, NormEN: en, Translator: tr,
	}
}

func start(t testing.TB, cfg local.Config) *local.Pipeline {
	t.Helper()
	p, err := local.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var sentences = []string{
	"Der Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt.",
	"Nach Angaben des Ministeriums wurden in der Region mehrere Dörfer evakuiert.",
	"Die Opposition kritisierte die Entscheidung und forderte eine unabhängige Untersuchung.",
	"Beobachter rechnen damit, dass die Verhandlungen noch mehrere Wochen dauern werden.",
	"Der Sprecher des Kremls wollte sich zu den Berichten zunächst nicht äußern.",
	"Im vergangenen Jahr waren die Preise für Lebensmittel um mehr als zehn Prozent gestiegen.",
}

// germanArticle makes a distinct, clearly German article.
func germanArticle(i int) article.Text {
	paras := make([]string, 3)
	for p := range paras {
		paras[p] = fmt.Sprintf("%s %s Meldung Nummer %d, Absatz %d.", sentences[(i+p)%len(sentences)], sentences[(i+p+2)%len(sentences)], i, p+1)
	}
	return article.Text{Title: fmt.Sprintf("Bericht %d über die Lage in der Region", i), Paragraphs: paras}
}

// writeJSONL writes n German articles with GUIDs to one JSONL file.
func writeJSONL(t testing.TB, dir string, from, n int) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := from; i < from+n; i++ {
		txt := germanArticle(i)
		line, _ := json.Marshal(map[string]any{"guid": fmt.Sprintf("guid-%d", i), "title": txt.Title, "paragraphs": txt.Paragraphs, "source": "wire"})
		b.Write(line)
		b.WriteByte('\n')
	}
	path := filepath.Join(dir, fmt.Sprintf("batch-%d.jsonl", from))
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readSink returns every record in the sink folder.
func readSink(t testing.TB, dir string) []*article.Article {
	t.Helper()
	schematest.ValidateDir(t, dir) // every record a test produces meets schema/article.v1.json
	all, err := sink.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// sinkLines counts the complete lines of the sink's JSONL files, which a
// running sink may be appending to.
func sinkLines(t testing.TB, dir string) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "articles-*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += bytes.Count(b, []byte("\n"))
	}
	return n
}

// exactlyOnce checks that the sink holds each of want ids once.
func exactlyOnce(t testing.TB, recs []*article.Article, want int) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.Key()]++
	}
	dups := 0
	for k, n := range seen {
		if n > 1 {
			dups++
			if dups < 5 {
				t.Errorf("%s stored %d times", k, n)
			}
		}
	}
	if len(seen) != want {
		t.Errorf("sink holds %d distinct records, want %d", len(seen), want)
	}
	if dups > 0 {
		t.Errorf("%d records stored more than once", dups)
	}
}

func waitCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
