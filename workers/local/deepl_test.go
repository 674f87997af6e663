package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dewire/dewire/internal/testenv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/deepl"
	"github.com/dewire/dewire/pipeline/record"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/local"
	"github.com/dewire/dewire/workers/sink"
	"github.com/dewire/dewire/workers/tm"
)

const deeplKey = "test-key-e2e:fx"

// fakeDeepL speaks DeepL API v2: /v2/usage, /v2/glossaries, /v2/translate.
// It answers the first storm translate calls with 429 and Retry-After, then
// 456 Quota Exceeded for quotaFor, then translates: "[en] " + the text
// with the glossary's German terms replaced by their English forms.
type fakeDeepL struct {
	mu         sync.Mutex
	storm      int
	quotaFor   time.Duration // starts when the storm ends
	quotaUntil time.Time
	glossaries map[string][]mt.Term
	calls      map[int]int // translate answers by status
	chars      int
	// english, when set, answers each text instead of "[en] " + glossary replacements.
	english func(string) string
}

func (f *fakeDeepL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "DeepL-Auth-Key "+deeplKey {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"Forbidden"}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.URL.Path == "/v2/usage":
		io.WriteString(w, `{"character_count":0,"character_limit":500000}`)
	case r.URL.Path == "/v2/glossaries" && r.Method == http.MethodPost:
		var req map[string]string
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req["entries_format"] != "tsv" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"message":"Invalid glossary entries"}`)
			return
		}
		var terms []mt.Term
		for _, line := range strings.Split(req["entries"], "\n") {
			if de, en, ok := strings.Cut(line, "\t"); ok {
				terms = append(terms, mt.Term{DE: de, EN: en})
			}
		}
		id := fmt.Sprintf("g%d", len(f.glossaries)+1)
		f.glossaries[id] = terms
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"glossary_id": id, "name": req["name"], "ready": true, "source_lang": "de", "target_lang": "en", "entry_count": len(terms)})
	case strings.HasPrefix(r.URL.Path, "/v2/glossaries/"):
		id := strings.TrimPrefix(r.URL.Path, "/v2/glossaries/")
		terms, ok := f.glossaries[id]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"Glossary not found"}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"glossary_id": id, "ready": true, "source_lang": "de", "target_lang": "en", "entry_count": len(terms)})
	case r.URL.Path == "/v2/glossaries":
		io.WriteString(w, `{"glossaries":[]}`)
	case r.URL.Path == "/v2/translate":
		f.translate(w, r)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Not found"}`)
	}
}

func (f *fakeDeepL) translate(w http.ResponseWriter, r *http.Request) {
	if f.storm > 0 {
		f.storm--
		f.calls[429]++
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"message":"Too many requests"}`)
		return
	}
	if f.quotaUntil.IsZero() {
		f.quotaUntil = time.Now().Add(f.quotaFor)
	}
	if time.Now().Before(f.quotaUntil) {
		f.calls[456]++
		w.WriteHeader(456)
		io.WriteString(w, `{"message":"Quota Exceeded"}`)
		return
	}
	var req struct {
		Text       []string `json:"text"`
		GlossaryID string   `json:"glossary_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"message":"Bad request"}`)
		return
	}
	f.calls[200]++
	type tr struct {
		DetectedSourceLanguage string `json:"detected_source_language"`
		Text                   string `json:"text"`
	}
	out := make([]tr, len(req.Text))
	for i, text := range req.Text {
		f.chars += len([]rune(text))
		if f.english != nil {
			out[i] = tr{DetectedSourceLanguage: "DE", Text: f.english(text)}
			continue
		}
		en := text
		for _, t := range f.glossaries[req.GlossaryID] {
			en = strings.ReplaceAll(en, t.DE, t.EN)
		}
		out[i] = tr{DetectedSourceLanguage: "DE", Text: "[en] " + en}
	}
	json.NewEncoder(w).Encode(map[string]any{"translations": out})
}

func TestSeedArticleThroughDeepLSurvivesA429StormAndAQuotaThatLifts(t *testing.T) {
	seed := testenv.SharedFile(t, "seed", "article.de.txt")
	fake := &fakeDeepL{storm: 4, quotaFor: 3 * time.Second, glossaries: map[string][]mt.Term{}, calls: map[int]int{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()

	cfg := config(t, nil)
	cfg.Translator = nil
	cfg.PauseProbe = 300 * time.Millisecond
	cfg.NewTranslator = func(ctx context.Context, js jetstream.JetStream) (local.Translator, error) {
		eng, err := deepl.New(deepl.Config{URL: srv.URL, AuthKey: deeplKey})
		if err != nil {
			return nil, err
		}
		mem, err := tm.NewKV(ctx, js, bus.BucketMemory)
		if err != nil {
			return nil, err
		}
		return &mt.Translator{Engine: eng, Memory: mem, Retry: mt.Retry{Attempts: 8, Base: 100 * time.Millisecond}}, nil
	}
	tmx, err := sink.OpenTMX(cfg.OutDir, record.TMXHeader{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Extras = []sink.Writer{tmx}
	p := start(t, cfg)
	defer p.Close()
	ctx := waitCtx(t, 2*time.Minute)
	if err := p.Ingest(ctx, []string{seed}, local.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx, nil); err != nil {
		t.Fatalf("wait: %v (%+v)", err, p.Stats())
	}
	tmx.Close()
	if st := p.Stats(); st.Clean != 1 || st.DeadLettered != 0 {
		t.Fatalf("stats %+v", st)
	}
	fake.mu.Lock()
	t.Logf("DeepL answers: %v, %d characters translated", fake.calls, fake.chars)
	if fake.calls[429] != 4 || fake.calls[456] == 0 || fake.calls[200] == 0 {
		t.Errorf("the storm and the quota were not both exercised: %v", fake.calls)
	}
	fake.mu.Unlock()

	recs := readSink(t, cfg.OutDir)
	if len(recs) != 1 {
		t.Fatalf("%d records in the JSONL, want 1", len(recs))
	}
	a := recs[0]
	if a.EN == nil || a.Engine == nil || a.Engine.Name != "deepl" || len(a.Segments) == 0 {
		t.Fatalf("record not translated: engine %+v, %d segments", a.Engine, len(a.Segments))
	}
	en := a.EN.Title + "\n" + strings.Join(a.EN.Paragraphs, "\n")
	for _, want := range []string{"Aliyev", "Vladimir Putin", "Konashenkov", "Peskov", "Nikol Pashinyan", "Shusha"} {
		if !strings.Contains(en, want) {
			t.Errorf("English lacks %q", want)
		}
	}
	for _, bad := range []string{"Alijew", "Peskow", "Konaschenkow", "Paschinjan", "Nikolai", "Schuscha", "Shushi"} {
		if strings.Contains(en, bad) {
			t.Errorf("English still has %q", bad)
		}
	}

	tmxFiles, _ := filepath.Glob(filepath.Join(cfg.OutDir, "*.tmx"))
	if len(tmxFiles) != 1 {
		t.Fatalf("TMX files: %v", tmxFiles)
	}
	body, _ := os.ReadFile(tmxFiles[0])
	if n := strings.Count(string(body), "<tu "); n != len(a.Segments) {
		t.Errorf("TMX has %d <tu>, the record %d segments", n, len(a.Segments))
	}
	if out, err := exec.Command(testenv.Tool(t, "xmllint", "libxml2-utils"), "--noout", tmxFiles[0]).CombinedOutput(); err != nil {
		t.Errorf("xmllint: %v %s", err, out)
	}
}
