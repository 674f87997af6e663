package engines

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/deepl"
	"github.com/dewire/dewire/pipeline/mt/libretranslate"
	"github.com/dewire/dewire/pipeline/mt/openai"
)

// Errors for configurations that cannot work; callers exit with a usage error.
var (
	ErrUnknownEngine = errors.New("engines: unknown engine")
	ErrNotConfigured = errors.New("engines: engine not configured")
)

// Names lists the engine names Open accepts.
func Names() []string { return []string{"auto", "none", "ct2", "deepl", "libretranslate", "openai"} }

// Config selects and configures an engine. Secrets are read from the
// environment (DEWIRE_DEEPL_AUTH_KEY, DEWIRE_LIBRETRANSLATE_API_KEY,
// DEWIRE_OPENAI_API_KEY) by the caller.
type Config struct {
	Name string // one of Names; "" means auto

	DeepLURL       string
	DeepLAuthKey   string
	DeepLTarget    string // EN-US or EN-GB
	DeepLFormality string
	DeepLGlossary  []mt.Term // e.g. the whole gazetteer, so one DeepL glossary serves every article

	LibreTranslateURL    string
	LibreTranslateAPIKey string

	OpenAIURL    string
	OpenAIModel  string
	OpenAIAPIKey string

	HTTPClient *http.Client

	// CT2 opens the embedded engine (package pipeline/mt/ct2, set by the
	// command). It reports installed == false when no model is present;
	// "auto" then moves on to the services. Nil means not built in.
	CT2 func() (eng mt.Engine, installed bool, err error)

	// SkipCheck skips the start-up credential check (offline tests).
	SkipCheck bool
}

// String describes the configuration without secrets.
func (c Config) String() string {
	set := func(s string) string {
		if s == "" {
			return "unset"
		}
		return "set"
	}
	return fmt.Sprintf("engines(name=%s deepl-url=%s deepl-key=%s libretranslate-url=%s libretranslate-key=%s openai-url=%s openai-model=%s openai-key=%s)",
		c.Name, c.DeepLURL, set(c.DeepLAuthKey), c.LibreTranslateURL, set(c.LibreTranslateAPIKey), c.OpenAIURL, c.OpenAIModel, set(c.OpenAIAPIKey))
}

// GoString is String, so %#v does not print secrets either.
func (c Config) GoString() string { return c.String() }

// Open returns the configured engine and a one-line description for the
// user (for the None engine: how to enable translation). Service engines
// are checked at once, so bad credentials fail here (errors.Is mt.ErrAuth).
func Open(ctx context.Context, cfg Config) (mt.Engine, string, error) {
	name := strings.ToLower(strings.TrimSpace(cfg.Name))
	switch name {
	case "", "auto":
		return auto(ctx, cfg)
	case "none":
		return mt.None{}, mt.NoneHint, nil
	case "ct2":
		if cfg.CT2 == nil {
			return nil, "", fmt.Errorf("%w: ct2 is not built into this binary", ErrNotConfigured)
		}
		eng, installed, err := cfg.CT2()
		if err != nil {
			return nil, "", fmt.Errorf("engine ct2: %w", err)
		}
		if !installed {
			return nil, "", fmt.Errorf("%w: no ct2 model installed (run `dewire model pull de-en` or pass --model)", ErrNotConfigured)
		}
		return eng, describe(eng), nil
	case "deepl":
		if cfg.DeepLAuthKey == "" {
			return nil, "", fmt.Errorf("%w: deepl needs DEWIRE_DEEPL_AUTH_KEY", ErrNotConfigured)
		}
		e, err := deepl.New(deepl.Config{URL: cfg.DeepLURL, AuthKey: cfg.DeepLAuthKey, TargetLang: cfg.DeepLTarget,
			Formality: cfg.DeepLFormality, Glossary: cfg.DeepLGlossary, HTTPClient: cfg.HTTPClient})
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", ErrNotConfigured, err)
		}
		return checked(ctx, cfg, e, fmt.Sprintf("translating with deepl (%s) at %s", e.Model(), e.URL()))
	case "libretranslate":
		if cfg.LibreTranslateURL == "" {
			return nil, "", fmt.Errorf("%w: libretranslate needs --libretranslate-url", ErrNotConfigured)
		}
		e, err := libretranslate.New(libretranslate.Config{URL: cfg.LibreTranslateURL, APIKey: cfg.LibreTranslateAPIKey, HTTPClient: cfg.HTTPClient})
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", ErrNotConfigured, err)
		}
		return checked(ctx, cfg, e, "translating with libretranslate at "+e.Model())
	case "openai":
		if cfg.OpenAIURL == "" || cfg.OpenAIModel == "" {
			return nil, "", fmt.Errorf("%w: openai needs --openai-url and --openai-model", ErrNotConfigured)
		}
		e, err := openai.New(openai.Config{URL: cfg.OpenAIURL, Model: cfg.OpenAIModel, APIKey: cfg.OpenAIAPIKey, HTTPClient: cfg.HTTPClient})
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", ErrNotConfigured, err)
		}
		return checked(ctx, cfg, e, fmt.Sprintf("translating with %s at %s", e.Model(), cfg.OpenAIURL))
	}
	return nil, "", fmt.Errorf("%w %q (want one of %s)", ErrUnknownEngine, cfg.Name, strings.Join(Names(), ", "))
}

// auto prefers the embedded model, then a service whose settings are
// present, then none.
func auto(ctx context.Context, cfg Config) (mt.Engine, string, error) {
	if cfg.CT2 != nil {
		eng, installed, err := cfg.CT2()
		if err != nil {
			return nil, "", fmt.Errorf("engine ct2: %w", err)
		}
		if installed {
			return eng, describe(eng), nil
		}
	}
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"deepl", cfg.DeepLAuthKey != ""},
		{"libretranslate", cfg.LibreTranslateURL != ""},
		{"openai", cfg.OpenAIURL != "" && cfg.OpenAIModel != ""},
	} {
		if c.ok {
			cfg.Name = c.name
			return Open(ctx, cfg)
		}
	}
	return mt.None{}, mt.NoneHint, nil
}

func checked(ctx context.Context, cfg Config, e mt.Engine, hint string) (mt.Engine, string, error) {
	if c, ok := e.(mt.Checker); ok && !cfg.SkipCheck {
		if err := c.Check(ctx); err != nil {
			return nil, "", fmt.Errorf("engine %s: %w", e.Name(), err)
		}
	}
	return e, hint, nil
}

func describe(e mt.Engine) string {
	if e.Model() == "" {
		return "translating with " + e.Name()
	}
	return fmt.Sprintf("translating with %s (%s)", e.Name(), e.Model())
}
