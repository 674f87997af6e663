package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/internal/wire"
)

// Config configures the engine.
type Config struct {
	URL         string // server base, with or without /v1: http://localhost:8000, https://api.openai.com/v1
	Model       string // e.g. gpt-4o-mini, Qwen/Qwen2.5-7B-Instruct
	APIKey      string // from DEWIRE_OPENAI_API_KEY; optional for local servers
	Variant     string // "US" (default) or "UK" English
	MaxSegments int    // segments per request; 0 means 20
	MaxBytes    int    // request text bytes; 0 means 12 KiB
	HTTPClient  *http.Client
}

// String describes the configuration without the key.
func (c Config) String() string {
	key := "unset"
	if c.APIKey != "" {
		key = "set"
	}
	return fmt.Sprintf("openai(url=%s model=%s key=%s)", c.URL, c.Model, key)
}

// GoString is String, so %#v does not print the key either.
func (c Config) GoString() string { return c.String() }

// Engine translates through a chat completions endpoint. It is safe for
// concurrent use.
type Engine struct {
	cfg Config
	v1  string // base ending in /v1
}

// New checks the configuration; it does not contact the server (see Check).
func New(cfg Config) (*Engine, error) {
	if cfg.URL == "" {
		return nil, errors.New("openai: no URL (set --openai-url)")
	}
	if cfg.Model == "" {
		return nil, errors.New("openai: no model (set --openai-model)")
	}
	if cfg.MaxSegments <= 0 {
		cfg.MaxSegments = 20
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 12 << 10
	}
	v1 := strings.TrimRight(cfg.URL, "/")
	if !strings.HasSuffix(v1, "/v1") {
		v1 += "/v1"
	}
	return &Engine{cfg: cfg, v1: v1}, nil
}

// Name implements mt.Engine.
func (e *Engine) Name() string { return "openai" }

// Model implements mt.Engine.
func (e *Engine) Model() string { return e.cfg.Model }

// Limits implements mt.Engine.
func (e *Engine) Limits() mt.Limits {
	return mt.Limits{MaxSegments: e.cfg.MaxSegments, MaxBytes: e.cfg.MaxBytes}
}

func (e *Engine) header() http.Header {
	h := http.Header{}
	if e.cfg.APIKey != "" {
		h.Set("Authorization", "Bearer "+e.cfg.APIKey)
	}
	return h
}

// apiError is either OpenAI's {"error":{…}} or vLLM's top-level
// {"object":"error",…}.
type apiError struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
}

func (a apiError) code() string { return strings.Trim(string(a.Code), `"`) }

func failure(r wire.Response, key string) *mt.Error {
	var body struct {
		Error *apiError `json:"error"`
		apiError
	}
	_ = json.Unmarshal(r.Body, &body)
	ae := body.apiError
	if body.Error != nil {
		ae = *body.Error
	}
	class := mt.ClassForStatus(r.Status)
	if ae.code() == "insufficient_quota" || ae.Type == "insufficient_quota" {
		class = mt.ErrQuota
	}
	msg := ae.Message
	if ae.Type != "" || ae.code() != "" {
		msg = fmt.Sprintf("%s (type %s, code %s)", msg, ae.Type, ae.code())
	}
	return wire.Fail("openai", r, class, msg, key)
}

func (e *Engine) do(ctx context.Context, method, path string, body, out any) error {
	r, err := wire.Do(ctx, e.cfg.HTTPClient, "openai", method, e.v1+path, e.header(), body, e.cfg.APIKey)
	if err != nil {
		return err
	}
	if r.Status/100 != 2 {
		return failure(r, e.cfg.APIKey)
	}
	return wire.Decode("openai", r, out)
}

// Check lists the server's models (GET /v1/models): bad credentials fail
// fast, and a model the server does not serve is reported.
func (e *Engine) Check(ctx context.Context) error {
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := e.do(ctx, http.MethodGet, "/models", nil, &list); err != nil {
		return err
	}
	var ids []string
	for _, m := range list.Data {
		if m.ID == e.cfg.Model {
			return nil
		}
		ids = append(ids, m.ID)
	}
	if len(ids) == 0 {
		return nil // some servers list nothing; the first request will tell
	}
	return &mt.Error{Engine: "openai", Class: mt.ErrPermanent, Message: fmt.Sprintf("model %q not served; the server has %s", e.cfg.Model, strings.Join(ids, ", "))}
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatRequest struct {
	Model       string    `json:"model"`
	Messages    []message `json:"messages"`
	Temperature float64   `json:"temperature"`
}

type chatResponse struct {
	Choices []struct {
		Message message `json:"message"`
	} `json:"choices"`
}

// SystemPrompt is the instruction sent with every request.
func SystemPrompt(variant string, glossary []mt.Term) string {
	if variant == "" {
		variant = "US"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "You translate German news into %s English for a news desk. ", variant)
	b.WriteString("The user sends a JSON array of German segments. Answer with only a JSON array of strings: ")
	b.WriteString("exactly one English translation per input segment, in the same order, nothing else. ")
	b.WriteString("Translate faithfully; keep numbers, quotations and their attribution.")
	if len(glossary) > 0 {
		b.WriteString("\nRender these names exactly as given (German → English):")
		for _, t := range glossary {
			fmt.Fprintf(&b, "\n- %s → %s", t.DE, t.EN)
		}
	}
	return b.String()
}

func (e *Engine) complete(ctx context.Context, segs []string, glossary []mt.Term) (string, error) {
	in, err := json.Marshal(segs)
	if err != nil {
		return "", &mt.Error{Engine: "openai", Class: mt.ErrPermanent, Message: err.Error()}
	}
	req := chatRequest{Model: e.cfg.Model, Temperature: 0, Messages: []message{
		{Role: "system", Content: SystemPrompt(e.cfg.Variant, glossary)},
		{Role: "user", Content: string(in)},
	}}
	var res chatResponse
	if err := e.do(ctx, http.MethodPost, "/chat/completions", req, &res); err != nil {
		return "", err
	}
	if len(res.Choices) == 0 {
		return "", &mt.Error{Engine: "openai", Class: mt.ErrRetryable, Status: http.StatusOK, Message: "answer without choices"}
	}
	return res.Choices[0].Message.Content, nil
}

// ParseArray reads a JSON array of strings out of a model's answer,
// tolerating code fences, text around the array and an object wrapping it.
func ParseArray(content string) ([]string, bool) {
	s := strings.TrimSpace(content)
	var out []string
	if json.Unmarshal([]byte(s), &out) == nil {
		return out, true
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(s), &obj) == nil {
		for _, v := range obj {
			if json.Unmarshal(v, &out) == nil {
				return out, true
			}
		}
	}
	i, j := strings.Index(s, "["), strings.LastIndex(s, "]")
	if i >= 0 && j > i && json.Unmarshal([]byte(s[i:j+1]), &out) == nil {
		return out, true
	}
	return nil, false
}

// Translate implements mt.Engine.
func (e *Engine) Translate(ctx context.Context, req mt.Request) (mt.Result, error) {
	out, idx, texts := mt.NonBlank(req.Segments)
	res := mt.Result{Translations: out}
	for _, b := range mt.Batches(texts, e.Limits()) {
		segs := texts[b.Start:b.End]
		content, err := e.complete(ctx, segs, glossaryFor(req.Glossary, segs))
		if err != nil {
			return mt.Result{}, err
		}
		out, ok := ParseArray(content)
		if !ok || len(out) != len(segs) {
			// The model merged or split segments: ask for each alone.
			out = make([]string, len(segs))
			for k, s := range segs {
				if out[k], err = e.one(ctx, s, glossaryFor(req.Glossary, []string{s})); err != nil {
					return mt.Result{}, err
				}
			}
		}
		for k, o := range out {
			res.Translations[idx[b.Start+k]] = strings.TrimSpace(o)
		}
	}
	return res, nil
}

func (e *Engine) one(ctx context.Context, seg string, glossary []mt.Term) (string, error) {
	content, err := e.complete(ctx, []string{seg}, glossary)
	if err != nil {
		return "", err
	}
	if out, ok := ParseArray(content); ok && len(out) == 1 {
		return out[0], nil
	}
	return strings.Trim(strings.TrimSpace(content), "`\""), nil
}

func glossaryFor(g []mt.Term, segs []string) []mt.Term {
	var out []mt.Term
	for _, t := range g {
		for _, s := range segs {
			if mt.ContainsWord(s, t.DE) {
				out = append(out, t)
				break
			}
		}
	}
	return out
}
