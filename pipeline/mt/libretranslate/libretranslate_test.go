package libretranslate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/libretranslate"
	"github.com/dewire/dewire/pipeline/mt/mttest"
)

// server speaks LibreTranslate's /translate and /languages.
type server struct {
	t         *testing.T
	behaviour mttest.Behaviour
	mangle    bool // drop placeholders, as a model sometimes does
	// batchLimit is the server's --batch-limit: more texts in one request
	// are refused with 400, as LibreTranslate does.
	batchLimit int
	done       chan struct{}

	mu       sync.Mutex
	requests int
}

func newServer(t *testing.T, b mttest.Behaviour) (*server, *httptest.Server) {
	s := &server{t: t, behaviour: b, batchLimit: 25, done: make(chan struct{})}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { close(s.done) })
	return s, ts
}

func fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q}`, msg)
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/languages" {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"code":"en","name":"English","targets":["de","en"]},{"code":"de","name":"German","targets":["de","en"]}]`)
		return
	}
	var req struct {
		Q      json.RawMessage `json:"q"`
		Source string          `json:"source"`
		Target string          `json:"target"`
		Format string          `json:"format"`
		APIKey string          `json:"api_key"`
	}
	if r.Method != http.MethodPost || r.URL.Path != "/translate" || json.NewDecoder(r.Body).Decode(&req) != nil {
		fail(w, http.StatusBadRequest, "Invalid request")
		return
	}
	switch {
	case req.APIKey != mttest.Secret || s.behaviour == mttest.Auth:
		fail(w, http.StatusForbidden, "Invalid API key")
		return
	case s.behaviour == mttest.Retryable:
		fail(w, http.StatusTooManyRequests, "Slowdown: 30 per 1 minute")
		return
	case s.behaviour == mttest.Permanent:
		fail(w, http.StatusBadRequest, "de is not supported")
		return
	case s.behaviour == mttest.Hang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}
	var q []string
	if err := json.Unmarshal(req.Q, &q); err != nil || req.Source != "de" || req.Target != "en" || req.Format != "text" {
		fail(w, http.StatusBadRequest, "Invalid request: missing q parameter")
		return
	}
	if len(q) > s.batchLimit {
		fail(w, http.StatusBadRequest, fmt.Sprintf("Invalid request: request (%d) exceeds text limit (%d)", len(q), s.batchLimit))
		return
	}
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	out := make([]string, len(q))
	for i, text := range q {
		out[i] = mttest.Fake(text, nil)
		if s.mangle {
			out[i] = strings.ReplaceAll(out[i], "ZQX", "Zqx")
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"translatedText": out})
}

func TestContract(t *testing.T) {
	features := mttest.Features{
		Glossary: true, // through placeholders: the server knows no glossaries
		// LibreTranslate has no quota answer, only rate limits.
		Failures:            []mttest.Behaviour{mttest.Retryable, mttest.Auth, mttest.Permanent},
		Hang:                true,
		SplitsLargeRequests: true,
	}
	mttest.Run(t, features, func(t *testing.T, b mttest.Behaviour) mt.Engine {
		_, ts := newServer(t, b)
		e, err := libretranslate.New(libretranslate.Config{URL: ts.URL, APIKey: mttest.Secret})
		if err != nil {
			t.Fatal(err)
		}
		return e
	})
}

func TestLostPlaceholdersAreTranslatedAgainWithoutThem(t *testing.T) {
	s, ts := newServer(t, mttest.Normal)
	s.mangle = true
	e, _ := libretranslate.New(libretranslate.Config{URL: ts.URL, APIKey: mttest.Secret})
	res, err := e.Translate(context.Background(), mt.Request{
		Segments: []string{"Ohne Namen.", "Ilham Alijew sprach."},
		Glossary: []mt.Term{{DE: "Ilham Alijew", EN: "Ilham Aliyev"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Translations[1] != "[en] Ilham Alijew sprach." || len(res.Unprotected) != 1 || res.Unprotected[0] != 1 || s.requests != 2 {
		t.Errorf("result %+v after %d requests", res, s.requests)
	}
}

func TestCheck(t *testing.T) {
	_, ts := newServer(t, mttest.Normal)
	e, _ := libretranslate.New(libretranslate.Config{URL: ts.URL})
	if err := e.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}
