package deepl_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/deepl"
	"github.com/dewire/dewire/pipeline/mt/mttest"
)

// server speaks the DeepL API v2 wire format.
type server struct {
	t         *testing.T
	behaviour mttest.Behaviour
	billed    bool // answer billed_characters

	mu         sync.Mutex
	glossaries map[string]glossary
	created    int
	translates int
	lastBody   map[string]any
	done       chan struct{} // closed at cleanup to release hanging handlers
}

type glossary struct {
	id, name string
	terms    []mt.Term
}

func newServer(t *testing.T, b mttest.Behaviour) (*server, *httptest.Server) {
	s := &server{t: t, behaviour: b, billed: true, glossaries: make(map[string]glossary), done: make(chan struct{})}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { close(s.done) })
	return s, ts
}

func (s *server) fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q}`, msg)
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "DeepL-Auth-Key "+mttest.Secret || s.behaviour == mttest.Auth {
		s.fail(w, http.StatusForbidden, "Wrong endpoint. Use https://api.deepl.com")
		return
	}
	switch s.behaviour {
	case mttest.Retryable:
		s.fail(w, http.StatusTooManyRequests, "Too many requests")
		return
	case mttest.Quota:
		s.fail(w, 456, "Quota Exceeded")
		return
	case mttest.Permanent:
		s.fail(w, http.StatusBadRequest, "Value for 'target_lang' not supported.")
		return
	case mttest.Hang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v2/usage":
		io.WriteString(w, `{"character_count":180118,"character_limit":1250000}`)
	case r.Method == http.MethodPost && r.URL.Path == "/v2/translate":
		s.translate(w, body)
	case r.Method == http.MethodGet && r.URL.Path == "/v2/glossaries":
		s.mu.Lock()
		var list []map[string]any
		for _, g := range s.glossaries {
			list = append(list, map[string]any{"glossary_id": g.id, "name": g.name, "ready": true, "source_lang": "de", "target_lang": "en", "entry_count": len(g.terms)})
		}
		s.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"glossaries": list})
	case r.Method == http.MethodPost && r.URL.Path == "/v2/glossaries":
		var req struct{ Name, SourceLang, TargetLang, Entries, EntriesFormat string }
		dec := json.NewDecoder(strings.NewReader(string(body)))
		var raw map[string]string
		if err := dec.Decode(&raw); err != nil {
			s.fail(w, http.StatusBadRequest, "bad json")
			return
		}
		req.Name, req.Entries, req.EntriesFormat = raw["name"], raw["entries"], raw["entries_format"]
		if raw["source_lang"] != "de" || raw["target_lang"] != "en" || req.EntriesFormat != "tsv" {
			s.fail(w, http.StatusBadRequest, "Unsupported glossary language pair")
			return
		}
		var terms []mt.Term
		for _, line := range strings.Split(strings.TrimSpace(req.Entries), "\n") {
			de, en, ok := strings.Cut(line, "\t")
			if !ok {
				s.fail(w, http.StatusBadRequest, "Invalid glossary entries")
				return
			}
			terms = append(terms, mt.Term{DE: de, EN: en})
		}
		s.mu.Lock()
		s.created++
		g := glossary{id: fmt.Sprintf("def3a26b-3e84-45b3-84ae-%012d", s.created), name: req.Name, terms: terms}
		s.glossaries[g.id] = g
		s.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		// Not ready yet: the client must poll GET /v2/glossaries/{id}.
		json.NewEncoder(w).Encode(map[string]any{"glossary_id": g.id, "name": g.name, "ready": false, "source_lang": "de", "target_lang": "en", "entry_count": len(terms)})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v2/glossaries/"):
		s.mu.Lock()
		g, ok := s.glossaries[strings.TrimPrefix(r.URL.Path, "/v2/glossaries/")]
		s.mu.Unlock()
		if !ok {
			s.fail(w, http.StatusNotFound, "Glossary not found")
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"glossary_id": g.id, "name": g.name, "ready": true, "source_lang": "de", "target_lang": "en", "entry_count": len(g.terms)})
	default:
		s.fail(w, http.StatusNotFound, "Not found")
	}
}

func (s *server) translate(w http.ResponseWriter, body []byte) {
	if len(body) > deepl.MaxRequestBytes {
		s.fail(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	var req struct {
		Text                 []string `json:"text"`
		SourceLang           string   `json:"source_lang"`
		TargetLang           string   `json:"target_lang"`
		GlossaryID           string   `json:"glossary_id"`
		TagHandling          string   `json:"tag_handling"`
		IgnoreTags           []string `json:"ignore_tags"`
		ShowBilledCharacters bool     `json:"show_billed_characters"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Text) == 0 {
		s.fail(w, http.StatusBadRequest, "Parameter 'text' not specified.")
		return
	}
	if len(req.Text) > deepl.MaxTexts {
		s.t.Errorf("request with %d texts, DeepL takes %d", len(req.Text), deepl.MaxTexts)
		s.fail(w, http.StatusRequestEntityTooLarge, "Too many texts")
		return
	}
	if req.SourceLang != "DE" || (req.TargetLang != "EN-US" && req.TargetLang != "EN-GB") {
		s.fail(w, http.StatusBadRequest, "Value for 'target_lang' not supported.")
		return
	}
	s.mu.Lock()
	s.translates++
	var raw map[string]any
	json.Unmarshal(body, &raw)
	s.lastBody = raw
	var terms []mt.Term
	if req.GlossaryID != "" {
		g, ok := s.glossaries[req.GlossaryID]
		if !ok {
			s.mu.Unlock()
			s.fail(w, http.StatusNotFound, "Glossary not found")
			return
		}
		terms = g.terms
	}
	s.mu.Unlock()
	type tr struct {
		DetectedSourceLanguage string `json:"detected_source_language"`
		Text                   string `json:"text"`
		BilledCharacters       *int   `json:"billed_characters,omitempty"`
	}
	out := make([]tr, len(req.Text))
	for i, text := range req.Text {
		n := utf8.RuneCountInString(text)
		out[i] = tr{DetectedSourceLanguage: "DE", Text: mttest.Fake(text, terms)}
		if s.billed && req.ShowBilledCharacters {
			out[i].BilledCharacters = &n
		}
	}
	json.NewEncoder(w).Encode(map[string]any{"translations": out})
}

func newEngine(t *testing.T, cfg deepl.Config) *deepl.Engine {
	e, err := deepl.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestContract(t *testing.T) {
	for _, protection := range []string{deepl.ProtectGlossary, deepl.ProtectXML} {
		t.Run("with "+protection+" protection", func(t *testing.T) {
			features := mttest.Features{
				Glossary:            true,
				Failures:            []mttest.Behaviour{mttest.Retryable, mttest.Quota, mttest.Auth, mttest.Permanent},
				Hang:                true,
				SplitsLargeRequests: true,
			}
			mttest.Run(t, features, func(t *testing.T, b mttest.Behaviour) mt.Engine {
				_, ts := newServer(t, b)
				return newEngine(t, deepl.Config{URL: ts.URL, AuthKey: mttest.Secret, Protection: protection})
			})
		})
	}
}

func TestURLFromKey(t *testing.T) {
	tests := []struct {
		name, key, url, want string
	}{
		{"a free key uses the free API", "abc:fx", "", deepl.FreeURL},
		{"a pro key uses the pro API", "abc", "", deepl.ProURL},
		{"an explicit URL wins", "abc:fx", "http://localhost:9/", "http://localhost:9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newEngine(t, deepl.Config{AuthKey: tt.key, URL: tt.url}).URL(); got != tt.want {
				t.Errorf("URL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGlossaryIsCreatedOnceAndReused(t *testing.T) {
	s, ts := newServer(t, mttest.Normal)
	g := []mt.Term{{DE: "Ilham Alijew", EN: "Ilham Aliyev"}, {DE: "Schuscha", EN: "Shusha"}}
	ctx := context.Background()
	for range 3 {
		e := newEngine(t, deepl.Config{URL: ts.URL, AuthKey: mttest.Secret, TargetLang: "EN-GB"})
		for range 2 {
			res, err := e.Translate(ctx, mt.Request{Segments: []string{"Ilham Alijew war in Schuscha."}, Glossary: g})
			if err != nil {
				t.Fatal(err)
			}
			if res.Translations[0] != "[en] Ilham Aliyev war in Shusha." {
				t.Errorf("got %q", res.Translations[0])
			}
		}
	}
	if s.created != 1 {
		t.Errorf("%d glossaries created, want 1 reused by every engine", s.created)
	}
	if s.lastBody["target_lang"] != "EN-GB" || s.lastBody["glossary_id"] == nil || s.lastBody["show_billed_characters"] != true {
		t.Errorf("request body %v", s.lastBody)
	}
}

func TestBilledCharacters(t *testing.T) {
	for _, billed := range []bool{true, false} {
		t.Run(fmt.Sprintf("when the API reports them: %v", billed), func(t *testing.T) {
			s, ts := newServer(t, mttest.Normal)
			s.billed = billed
			e := newEngine(t, deepl.Config{URL: ts.URL, AuthKey: mttest.Secret})
			res, err := e.Translate(context.Background(), mt.Request{Segments: []string{"Größe.", "Zwei Sätze."}})
			if err != nil {
				t.Fatal(err)
			}
			if res.BilledChars != 17 {
				t.Errorf("billed %d, want 17", res.BilledChars)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		b     mttest.Behaviour
		key   string
		class error
	}{
		{"accepts a good key", mttest.Normal, mttest.Secret, nil},
		{"fails fast on a bad key", mttest.Normal, "wrong-key:fx", mt.ErrAuth},
		{"reports an exhausted quota", mttest.Quota, mttest.Secret, mt.ErrQuota},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ts := newServer(t, tt.b)
			err := newEngine(t, deepl.Config{URL: ts.URL, AuthKey: tt.key}).Check(context.Background())
			if tt.class == nil && err != nil || tt.class != nil && !errors.Is(err, tt.class) {
				t.Fatalf("Check = %v, want %v", err, tt.class)
			}
			if err != nil && strings.Contains(err.Error(), tt.key) {
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
}

func TestConfigNeverPrintsTheKey(t *testing.T) {
	cfg := deepl.Config{AuthKey: mttest.Secret}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%v", &cfg)} {
		if strings.Contains(s, mttest.Secret) {
			t.Errorf("printed config shows the key: %s", s)
		}
	}
}

func TestTranslatorWithDeepL(t *testing.T) {
	s, ts := newServer(t, mttest.Normal)
	e := newEngine(t, deepl.Config{URL: ts.URL, AuthKey: mttest.Secret})
	segs := make([]string, 120)
	for i := range segs {
		segs[i] = fmt.Sprintf("Satz %d.", i)
	}
	res, err := e.Translate(context.Background(), mt.Request{Segments: segs})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Translations) != 120 || s.translates != 3 {
		t.Errorf("%d translations in %d requests, want 120 in 3", len(res.Translations), s.translates)
	}
}
