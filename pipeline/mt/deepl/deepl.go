package deepl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/internal/wire"
)

// Service URLs; free-plan keys end in ":fx".
const (
	ProURL  = "https://api.deepl.com"
	FreeURL = "https://api-free.deepl.com"
)

// Request limits of the DeepL API.
const (
	MaxTexts        = 50
	MaxRequestBytes = 128 << 10
)

// Protection modes for glossary terms.
const (
	ProtectGlossary = "glossary" // a DeepL glossary (default)
	ProtectXML      = "xml"      // the English form inside an ignored XML tag
)

// Config configures the engine. The zero value of every field but AuthKey
// has a default.
type Config struct {
	URL        string // default from the key: FreeURL for keys ending in ":fx", else ProURL
	AuthKey    string // from DEWIRE_DEEPL_AUTH_KEY
	TargetLang string // EN-US (default) or EN-GB
	Formality  string // optional: more, less, prefer_more, prefer_less
	Protection string // ProtectGlossary (default) or ProtectXML
	// Glossary is merged into every request's glossary, so that a glossary
	// built from the whole gazetteer is created once and reused.
	Glossary   []mt.Term
	HTTPClient *http.Client
}

// String describes the configuration without the key.
func (c Config) String() string {
	key := "unset"
	if c.AuthKey != "" {
		key = "set"
	}
	return fmt.Sprintf("deepl(url=%s target=%s formality=%s key=%s)", c.baseURL(), c.target(), c.Formality, key)
}

// GoString is String, so %#v does not print the key either.
func (c Config) GoString() string { return c.String() }

func (c Config) baseURL() string {
	if c.URL != "" {
		return strings.TrimRight(c.URL, "/")
	}
	if strings.HasSuffix(c.AuthKey, ":fx") {
		return FreeURL
	}
	return ProURL
}

func (c Config) target() string {
	if c.TargetLang == "" {
		return "EN-US"
	}
	return strings.ToUpper(c.TargetLang)
}

// Engine translates through DeepL. It is safe for concurrent use.
type Engine struct {
	cfg  Config
	base string

	mu         sync.Mutex
	glossaries map[string]string // entry-set name → glossary id
}

// New checks the configuration; it does not contact DeepL (see Check).
func New(cfg Config) (*Engine, error) {
	if cfg.AuthKey == "" {
		return nil, errors.New("deepl: no auth key (set DEWIRE_DEEPL_AUTH_KEY)")
	}
	switch cfg.target() {
	case "EN-US", "EN-GB":
	default:
		return nil, fmt.Errorf("deepl: target %q: want EN-US or EN-GB", cfg.TargetLang)
	}
	switch cfg.Protection {
	case "", ProtectGlossary, ProtectXML:
	default:
		return nil, fmt.Errorf("deepl: protection %q: want glossary or xml", cfg.Protection)
	}
	if _, err := url.Parse(cfg.baseURL()); err != nil {
		return nil, fmt.Errorf("deepl: url: %w", err)
	}
	return &Engine{cfg: cfg, base: cfg.baseURL(), glossaries: make(map[string]string)}, nil
}

// Name implements mt.Engine.
func (e *Engine) Name() string { return "deepl" }

// Model implements mt.Engine: the target variant and formality.
func (e *Engine) Model() string {
	if e.cfg.Formality != "" {
		return e.cfg.target() + "/" + e.cfg.Formality
	}
	return e.cfg.target()
}

// Limits implements mt.Engine; the byte limit leaves room for the other fields.
func (e *Engine) Limits() mt.Limits {
	return mt.Limits{MaxSegments: MaxTexts, MaxBytes: MaxRequestBytes - 4<<10}
}

// URL is the service the engine talks to.
func (e *Engine) URL() string { return e.base }

func (e *Engine) header() http.Header {
	return http.Header{"Authorization": {"DeepL-Auth-Key " + e.cfg.AuthKey}, "User-Agent": {"dewire"}}
}

func (e *Engine) do(ctx context.Context, method, path string, body, out any) error {
	r, err := wire.Do(ctx, e.cfg.HTTPClient, "deepl", method, e.base+path, e.header(), body, e.cfg.AuthKey)
	if err != nil {
		return err
	}
	if r.Status/100 != 2 {
		return failure(r, e.cfg.AuthKey)
	}
	if out == nil {
		return nil
	}
	return wire.Decode("deepl", r, out)
}

func failure(r wire.Response, key string) *mt.Error {
	var body struct {
		Message string `json:"message"`
		Detail  string `json:"detail"`
	}
	_ = wire.Decode("deepl", r, &body)
	msg := strings.TrimSpace(body.Message + " " + body.Detail)
	var class error
	switch {
	case r.Status == 456:
		class = mt.ErrQuota
		if msg == "" {
			msg = "quota exceeded"
		}
	case r.Status == http.StatusForbidden || r.Status == http.StatusUnauthorized:
		class = mt.ErrAuth
	case r.Status == http.StatusTooManyRequests || r.Status >= 500:
		class = mt.ErrRetryable
	default:
		class = mt.ErrPermanent
	}
	return wire.Fail("deepl", r, class, msg, key)
}

// Check verifies the key with GET /v2/usage.
func (e *Engine) Check(ctx context.Context) error {
	var usage struct {
		CharacterCount int64 `json:"character_count"`
		CharacterLimit int64 `json:"character_limit"`
	}
	if err := e.do(ctx, http.MethodGet, "/v2/usage", nil, &usage); err != nil {
		return err
	}
	if usage.CharacterLimit > 0 && usage.CharacterCount >= usage.CharacterLimit {
		return &mt.Error{Engine: "deepl", Class: mt.ErrQuota, Message: fmt.Sprintf("character quota used up (%d of %d)", usage.CharacterCount, usage.CharacterLimit)}
	}
	return nil
}

type translateRequest struct {
	Text                 []string `json:"text"`
	SourceLang           string   `json:"source_lang"`
	TargetLang           string   `json:"target_lang"`
	Formality            string   `json:"formality,omitempty"`
	GlossaryID           string   `json:"glossary_id,omitempty"`
	TagHandling          string   `json:"tag_handling,omitempty"`
	IgnoreTags           []string `json:"ignore_tags,omitempty"`
	ShowBilledCharacters bool     `json:"show_billed_characters"`
}

type translateResponse struct {
	Translations []struct {
		Text             string `json:"text"`
		BilledCharacters *int   `json:"billed_characters"`
	} `json:"translations"`
}

// keepTag wraps entity forms DeepL must copy in XML mode.
const keepTag = "dw"

// Translate implements mt.Engine. Blank segments are answered locally;
// larger requests are cut to DeepL's limits.
func (e *Engine) Translate(ctx context.Context, req mt.Request) (mt.Result, error) {
	out, idx, texts := mt.NonBlank(req.Segments)
	res := mt.Result{Translations: out}
	if len(texts) == 0 {
		return res, nil
	}
	terms := glossaryTerms(e.cfg.Glossary, req.Glossary)
	base := translateRequest{SourceLang: "DE", TargetLang: e.cfg.target(), Formality: e.cfg.Formality, ShowBilledCharacters: true}
	xml := false
	if len(terms) > 0 {
		if e.cfg.Protection == ProtectXML {
			xml = true
		} else {
			id, err := e.glossary(ctx, terms)
			switch {
			case err == nil:
				base.GlossaryID = id
			case errors.Is(err, mt.ErrPermanent):
				xml = true // DeepL refused the glossary; protect with tags instead
			default:
				return mt.Result{}, err
			}
		}
	}
	if xml {
		base.TagHandling = "xml"
		base.IgnoreTags = []string{keepTag}
	}
	for _, b := range mt.Batches(texts, e.Limits()) {
		body := base
		body.Text = make([]string, 0, b.End-b.Start)
		for _, s := range texts[b.Start:b.End] {
			if xml {
				s = tagTerms(s, terms)
			}
			body.Text = append(body.Text, s)
		}
		var out translateResponse
		if err := e.do(ctx, http.MethodPost, "/v2/translate", body, &out); err != nil {
			return mt.Result{}, err
		}
		if len(out.Translations) != len(body.Text) {
			return mt.Result{}, &mt.Error{Engine: "deepl", Class: mt.ErrRetryable, Status: http.StatusOK,
				Message: fmt.Sprintf("%d translations for %d texts", len(out.Translations), len(body.Text))}
		}
		for i, tr := range out.Translations {
			text := tr.Text
			if xml {
				text = untag(text)
			}
			res.Translations[idx[b.Start+i]] = text
			if tr.BilledCharacters != nil {
				res.BilledChars += *tr.BilledCharacters
			} else {
				res.BilledChars += utf8.RuneCountInString(texts[b.Start+i])
			}
		}
	}
	return res, nil
}

// glossaryTerms merges the configured and requested terms into a sorted
// entry set DeepL accepts (no tabs or line breaks, one entry per source).
func glossaryTerms(lists ...[]mt.Term) []mt.Term {
	seen := make(map[string]bool)
	var out []mt.Term
	for _, l := range lists {
		for _, t := range l {
			de, en := strings.TrimSpace(t.DE), strings.TrimSpace(t.EN)
			if de == "" || en == "" || seen[de] || strings.ContainsAny(de+en, "\t\r\n") {
				continue
			}
			seen[de] = true
			out = append(out, mt.Term{DE: de, EN: en})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DE < out[j].DE })
	return out
}

func tsv(terms []mt.Term) string {
	var b strings.Builder
	for _, t := range terms {
		b.WriteString(t.DE)
		b.WriteByte('\t')
		b.WriteString(t.EN)
		b.WriteByte('\n')
	}
	return b.String()
}

type glossaryInfo struct {
	GlossaryID string `json:"glossary_id"`
	Name       string `json:"name"`
	Ready      bool   `json:"ready"`
	SourceLang string `json:"source_lang"`
	TargetLang string `json:"target_lang"`
}

// glossary returns the id of a DeepL glossary holding exactly terms,
// reusing one made earlier (by this process or another) under the same
// content-hash name.
func (e *Engine) glossary(ctx context.Context, terms []mt.Term) (string, error) {
	entries := tsv(terms)
	sum := sha256.Sum256([]byte(entries))
	name := "dewire-" + hex.EncodeToString(sum[:12])
	e.mu.Lock()
	id, ok := e.glossaries[name]
	e.mu.Unlock()
	if ok {
		return id, nil
	}
	var list struct {
		Glossaries []glossaryInfo `json:"glossaries"`
	}
	if err := e.do(ctx, http.MethodGet, "/v2/glossaries", nil, &list); err != nil {
		return "", err
	}
	for _, g := range list.Glossaries {
		if g.Name == name && g.Ready && strings.EqualFold(g.SourceLang, "de") && strings.EqualFold(g.TargetLang, "en") {
			id = g.GlossaryID
		}
	}
	if id == "" {
		var made glossaryInfo
		body := map[string]string{"name": name, "source_lang": "de", "target_lang": "en", "entries": entries, "entries_format": "tsv"}
		if err := e.do(ctx, http.MethodPost, "/v2/glossaries", body, &made); err != nil {
			return "", err
		}
		if err := e.waitReady(ctx, made); err != nil {
			return "", err
		}
		id = made.GlossaryID
	}
	e.mu.Lock()
	e.glossaries[name] = id
	e.mu.Unlock()
	return id, nil
}

func (e *Engine) waitReady(ctx context.Context, g glossaryInfo) error {
	for i := 0; !g.Ready; i++ {
		if i == 20 {
			return &mt.Error{Engine: "deepl", Class: mt.ErrRetryable, Message: "glossary " + g.GlossaryID + " not ready"}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		if err := e.do(ctx, http.MethodGet, "/v2/glossaries/"+url.PathEscape(g.GlossaryID), nil, &g); err != nil {
			return err
		}
	}
	return nil
}

// tagTerms escapes s for tag_handling=xml and puts the English form of each
// term, inside a tag DeepL ignores, in place of the German form.
func tagTerms(s string, terms []mt.Term) string {
	p := mt.Protect(s, terms)
	out, _ := p.RestoreWith(escape(p.Text), func(en string) string {
		return "<" + keepTag + ">" + escape(en) + "</" + keepTag + ">"
	})
	return out
}

// untag removes the keep tags and the XML escaping from DeepL's answer.
func untag(s string) string {
	s = strings.ReplaceAll(s, "<"+keepTag+">", "")
	s = strings.ReplaceAll(s, "</"+keepTag+">", "")
	return html.UnescapeString(s)
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escape(s string) string { return xmlEscaper.Replace(s) }
