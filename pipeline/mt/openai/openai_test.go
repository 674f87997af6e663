package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/mttest"
	"github.com/dewire/dewire/pipeline/mt/openai"
)

// server speaks the chat completions API like OpenAI and vLLM.
type server struct {
	t         *testing.T
	behaviour mttest.Behaviour
	vllm      bool                       // answer errors in vLLM's top-level shape
	answer    func(segs []string) string // overrides the model's answer
	done      chan struct{}

	mu    sync.Mutex
	calls int
}

func newServer(t *testing.T, b mttest.Behaviour) (*server, *httptest.Server) {
	s := &server{t: t, behaviour: b, done: make(chan struct{})}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	t.Cleanup(func() { close(s.done) })
	return s, ts
}

func (s *server) fail(w http.ResponseWriter, status int, msg, typ, code string) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	if s.vllm {
		json.NewEncoder(w).Encode(map[string]any{"object": "error", "message": msg, "type": typ, "param": nil, "code": status})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": code}})
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+mttest.Secret || s.behaviour == mttest.Auth {
		s.fail(w, http.StatusUnauthorized, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
		return
	}
	switch s.behaviour {
	case mttest.Retryable:
		s.fail(w, http.StatusTooManyRequests, "Rate limit reached for requests", "requests", "rate_limit_exceeded")
		return
	case mttest.Quota:
		s.fail(w, http.StatusTooManyRequests, "You exceeded your current quota.", "insufficient_quota", "insufficient_quota")
		return
	case mttest.Permanent:
		s.fail(w, http.StatusBadRequest, "This model's maximum context length is 4096 tokens.", "BadRequestError", "context_length_exceeded")
		return
	case mttest.Hang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/v1/models" {
		fmt.Fprint(w, `{"object":"list","data":[{"id":"test-model","object":"model","owned_by":"vllm"}]}`)
		return
	}
	var req struct {
		Model       string  `json:"model"`
		Temperature float64 `json:"temperature"`
		Messages    []struct{ Role, Content string }
	}
	if r.URL.Path != "/v1/chat/completions" || json.NewDecoder(r.Body).Decode(&req) != nil || len(req.Messages) != 2 || req.Model != "test-model" || req.Temperature != 0 {
		s.fail(w, http.StatusNotFound, "The model does not exist.", "NotFoundError", "model_not_found")
		return
	}
	var segs []string
	if err := json.Unmarshal([]byte(req.Messages[1].Content), &segs); err != nil {
		s.fail(w, http.StatusBadRequest, "user message is not a JSON array", "BadRequestError", "")
		return
	}
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	// The "model" follows the glossary lines of the system prompt.
	var glossary []mt.Term
	for _, line := range strings.Split(req.Messages[0].Content, "\n") {
		if de, en, ok := strings.Cut(strings.TrimPrefix(line, "- "), " → "); ok && strings.HasPrefix(line, "- ") {
			glossary = append(glossary, mt.Term{DE: de, EN: en})
		}
	}
	var content string
	if s.answer != nil {
		content = s.answer(segs)
	} else {
		out := make([]string, len(segs))
		for i, seg := range segs {
			out[i] = mttest.Fake(seg, glossary)
		}
		b, _ := json.MarshalIndent(out, "", " ")
		content = "```json\n" + string(b) + "\n```"
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": content}}}})
}

func newEngine(t *testing.T, url string) *openai.Engine {
	e, err := openai.New(openai.Config{URL: url, Model: "test-model", APIKey: mttest.Secret})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestContract(t *testing.T) {
	for _, vllm := range []bool{false, true} {
		t.Run(fmt.Sprintf("with vLLM error shapes %v", vllm), func(t *testing.T) {
			features := mttest.Features{
				Glossary:            true, // in the system prompt
				Failures:            []mttest.Behaviour{mttest.Retryable, mttest.Quota, mttest.Auth, mttest.Permanent},
				Hang:                true,
				SplitsLargeRequests: true,
			}
			if vllm {
				features.Failures = []mttest.Behaviour{mttest.Retryable, mttest.Auth, mttest.Permanent} // vLLM has no quota
			}
			mttest.Run(t, features, func(t *testing.T, b mttest.Behaviour) mt.Engine {
				s, ts := newServer(t, b)
				s.vllm = vllm
				return newEngine(t, ts.URL+"/v1")
			})
		})
	}
}

func TestBaseURLWithAndWithoutV1(t *testing.T) {
	_, ts := newServer(t, mttest.Normal)
	for _, u := range []string{ts.URL, ts.URL + "/", ts.URL + "/v1", ts.URL + "/v1/"} {
		if err := newEngine(t, u).Check(context.Background()); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestMiscountedAnswerFallsBackToOneSegmentPerRequest(t *testing.T) {
	s, ts := newServer(t, mttest.Normal)
	s.answer = func(segs []string) string {
		if len(segs) > 1 {
			return `["Everything in one."]`
		}
		return "Sure! Here it is: [\"" + mttest.Fake(segs[0], nil) + "\"]"
	}
	res, err := newEngine(t, ts.URL).Translate(context.Background(), mt.Request{Segments: []string{"Eins.", "Zwei.", "Drei."}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Translations[2] != "[en] Drei." || s.calls != 4 {
		t.Errorf("translations %q after %d calls", res.Translations, s.calls)
	}
}

func TestCheckFailsFastOnBadKey(t *testing.T) {
	_, ts := newServer(t, mttest.Normal)
	e, _ := openai.New(openai.Config{URL: ts.URL, Model: "test-model", APIKey: "sk-wrong-secret"})
	err := e.Check(context.Background())
	if !errors.Is(err, mt.ErrAuth) || strings.Contains(err.Error(), "sk-wrong-secret") {
		t.Fatalf("Check = %v", err)
	}
}

func TestParseArray(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"a bare array", `["a","b"]`, []string{"a", "b"}},
		{"a fenced array", "```json\n[\"a\"]\n```", []string{"a"}},
		{"an array in prose", `Here: ["a", "b"] Done.`, []string{"a", "b"}},
		{"an array in an object", `{"translations":["a"]}`, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := openai.ParseArray(tt.in)
			if !ok || strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("ParseArray(%q) = %q, %v", tt.in, got, ok)
			}
		})
	}
}
