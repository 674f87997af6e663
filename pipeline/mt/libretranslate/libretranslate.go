package libretranslate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/internal/wire"
)

// Config configures the engine.
type Config struct {
	URL         string // e.g. http://localhost:5000
	APIKey      string // from DEWIRE_LIBRETRANSLATE_API_KEY; optional
	MaxSegments int    // texts per request; 0 means 25
	MaxBytes    int    // request bytes; 0 means 32 KiB
	HTTPClient  *http.Client
}

// String describes the configuration without the key.
func (c Config) String() string {
	key := "unset"
	if c.APIKey != "" {
		key = "set"
	}
	return fmt.Sprintf("libretranslate(url=%s key=%s)", c.URL, key)
}

// GoString is String, so %#v does not print the key either.
func (c Config) GoString() string { return c.String() }

// Engine translates through LibreTranslate. It is safe for concurrent use.
type Engine struct {
	cfg  Config
	base string
}

// New checks the configuration; it does not contact the server (see Check).
func New(cfg Config) (*Engine, error) {
	if cfg.URL == "" {
		return nil, errors.New("libretranslate: no URL (set --libretranslate-url)")
	}
	if cfg.MaxSegments <= 0 {
		cfg.MaxSegments = 25
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 32 << 10
	}
	return &Engine{cfg: cfg, base: strings.TrimRight(cfg.URL, "/")}, nil
}

// Name implements mt.Engine.
func (e *Engine) Name() string { return "libretranslate" }

// Model implements mt.Engine: the server, since each may run other models.
func (e *Engine) Model() string { return e.base }

// Limits implements mt.Engine.
func (e *Engine) Limits() mt.Limits {
	return mt.Limits{MaxSegments: e.cfg.MaxSegments, MaxBytes: e.cfg.MaxBytes}
}

func (e *Engine) do(ctx context.Context, method, path string, body, out any) error {
	r, err := wire.Do(ctx, e.cfg.HTTPClient, "libretranslate", method, e.base+path, nil, body, e.cfg.APIKey)
	if err != nil {
		return err
	}
	if r.Status/100 != 2 {
		var eb struct {
			Error string `json:"error"`
		}
		_ = wire.Decode("libretranslate", r, &eb)
		return wire.Fail("libretranslate", r, mt.ClassForStatus(r.Status), eb.Error, e.cfg.APIKey)
	}
	return wire.Decode("libretranslate", r, out)
}

// Check asks the server for its languages and makes sure it translates de→en.
func (e *Engine) Check(ctx context.Context) error {
	var langs []struct {
		Code    string   `json:"code"`
		Targets []string `json:"targets"`
	}
	if err := e.do(ctx, http.MethodGet, "/languages", nil, &langs); err != nil {
		return err
	}
	for _, l := range langs {
		if l.Code == "de" {
			for _, t := range l.Targets {
				if t == "en" {
					return nil
				}
			}
		}
	}
	return &mt.Error{Engine: "libretranslate", Class: mt.ErrPermanent, Message: "server does not translate de to en"}
}

type request struct {
	Q      []string `json:"q"`
	Source string   `json:"source"`
	Target string   `json:"target"`
	Format string   `json:"format"`
	APIKey string   `json:"api_key,omitempty"`
}

func (e *Engine) translate(ctx context.Context, texts []string) ([]string, error) {
	out := make([]string, 0, len(texts))
	for _, b := range mt.Batches(texts, e.Limits()) {
		var res struct {
			TranslatedText []string `json:"translatedText"`
		}
		req := request{Q: texts[b.Start:b.End], Source: "de", Target: "en", Format: "text", APIKey: e.cfg.APIKey}
		if err := e.do(ctx, http.MethodPost, "/translate", req, &res); err != nil {
			return nil, err
		}
		if len(res.TranslatedText) != b.End-b.Start {
			return nil, &mt.Error{Engine: "libretranslate", Class: mt.ErrRetryable, Status: http.StatusOK,
				Message: fmt.Sprintf("%d translations for %d texts", len(res.TranslatedText), b.End-b.Start)}
		}
		out = append(out, res.TranslatedText...)
	}
	return out, nil
}

// Translate implements mt.Engine.
func (e *Engine) Translate(ctx context.Context, req mt.Request) (mt.Result, error) {
	filled, idx, texts := mt.NonBlank(req.Segments)
	res := mt.Result{Translations: filled}
	prot := make([]mt.Protected, len(texts))
	for k, s := range texts {
		prot[k] = mt.Protect(s, req.Glossary)
		texts[k] = prot[k].Text
	}
	if len(texts) == 0 {
		return res, nil
	}
	out, err := e.translate(ctx, texts)
	if err != nil {
		return mt.Result{}, err
	}
	var retry []int // positions in texts whose placeholders got lost
	for j, o := range out {
		restored, ok := prot[j].Restore(o)
		if !ok {
			retry = append(retry, j)
			continue
		}
		res.Translations[idx[j]] = restored
	}
	if len(retry) > 0 {
		plain := make([]string, len(retry))
		for k, j := range retry {
			plain[k] = req.Segments[idx[j]]
		}
		again, err := e.translate(ctx, plain)
		if err != nil {
			return mt.Result{}, err
		}
		for k, j := range retry {
			res.Translations[idx[j]] = again[k]
			res.Unprotected = append(res.Unprotected, idx[j])
		}
	}
	return res, nil
}
