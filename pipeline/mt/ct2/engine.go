package ct2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/dewire/dewire/pipeline/mt"
)

// Tokenizer splits text into model pieces and joins them back; a
// SentencePiece model (pipeline/spm) satisfies it.
type Tokenizer interface {
	Encode(text string) []string
	Decode(pieces []string) string
}

// TokenizerLoader reads a tokenizer model such as sentencepiece.model.
type TokenizerLoader func(r io.Reader) (Tokenizer, error)

// Option configures an Engine.
type Option func(*engineConfig)

type engineConfig struct {
	loadTokenizer TokenizerLoader
	tokenizer     Tokenizer
	name          string
	decode        Options
	maxSegments   int
	compute       ComputeType
}

// WithTokenizerLoader sets how a sentencepiece.model or source.spm found
// beside the model is read; without it, a model that ships one cannot be opened.
func WithTokenizerLoader(load TokenizerLoader) Option {
	return func(c *engineConfig) { c.loadTokenizer = load }
}

// WithTokenizer uses tok instead of looking for a tokenizer model.
func WithTokenizer(tok Tokenizer) Option { return func(c *engineConfig) { c.tokenizer = tok } }

// WithModelName sets what Model reports (default: the model folder's name).
func WithModelName(name string) Option { return func(c *engineConfig) { c.name = name } }

// WithDecoding sets the decoding options (default: greedy).
func WithDecoding(o Options) Option { return func(c *engineConfig) { c.decode = o } }

// WithMaxSegments sets Limits().MaxSegments (default 32).
func WithMaxSegments(n int) Option { return func(c *engineConfig) { c.maxSegments = n } }

// WithComputeType sets how the model computes (default DefaultComputeType).
func WithComputeType(c ComputeType) Option { return func(e *engineConfig) { e.compute = c } }

// Engine is the embedded CTranslate2 translation engine.
type Engine struct {
	model  *Model
	tok    Tokenizer // nil: tokens are separated by spaces
	name   string
	decode Options
	limits mt.Limits
}

var _ mt.Engine = (*Engine)(nil)

// Open opens a CTranslate2 model folder, or a folder holding one in model/
// (the layout of an unpacked Argos Translate package).
func Open(dir string, opts ...Option) (*Engine, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("ct2: open %s: %w", dir, err)
	}
	opts = append([]Option{WithModelName(filepath.Base(abs))}, opts...)
	return OpenFS(os.DirFS(abs), opts...)
}

// OpenFS opens a model from a file system whose root is a CTranslate2 model
// folder or holds one in model/ (as modelstore exposes an .argosmodel package).
func OpenFS(fsys fs.FS, opts ...Option) (*Engine, error) {
	cfg := engineConfig{maxSegments: 32, compute: DefaultComputeType}
	for _, o := range opts {
		o(&cfg)
	}
	dir := "."
	if _, err := fs.Stat(fsys, "model.bin"); err != nil {
		if _, err2 := fs.Stat(fsys, "model/model.bin"); err2 != nil {
			return nil, fmt.Errorf("ct2: no model.bin or model/model.bin: %w", err)
		}
		dir = "model"
	}
	m, err := LoadFS(fsys, dir, WithCompute(cfg.compute))
	if err != nil {
		return nil, err
	}
	tok := cfg.tokenizer
	if tok == nil {
		if tok, err = findTokenizer(fsys, dir, cfg.loadTokenizer); err != nil {
			return nil, err
		}
	}
	name := cfg.name
	if name == "" {
		name = "ct2"
	}
	compute := cfg.compute
	if compute == ComputeDefault {
		compute = DefaultComputeType
	}
	// The arithmetic is part of the model's name: translations made with
	// another one are other entries in the translation memory, and the
	// record says how its English was computed.
	name += " (" + compute.String() + ")"
	return &Engine{model: m, tok: tok, name: name, decode: cfg.decode, limits: mt.Limits{MaxSegments: cfg.maxSegments}}, nil
}

func findTokenizer(fsys fs.FS, dir string, load TokenizerLoader) (Tokenizer, error) {
	for _, d := range []string{dir, path.Dir(dir)} {
		for _, name := range []string{"sentencepiece.model", "source.spm"} {
			p := path.Join(d, name)
			f, err := fsys.Open(p)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("ct2: open %s: %w", p, err)
			}
			defer f.Close()
			if load == nil {
				return nil, fmt.Errorf("ct2: %s needs a SentencePiece loader (WithTokenizerLoader)", p)
			}
			tok, err := load(f)
			if err != nil {
				return nil, fmt.Errorf("ct2: load %s: %w", p, err)
			}
			return tok, nil
		}
		if d == "." {
			break
		}
	}
	return nil, nil
}

// Runtime returns the loaded model for direct use.
func (e *Engine) Runtime() *Model { return e.model }

// Name implements mt.Engine.
func (e *Engine) Name() string { return "ct2" }

// Model implements mt.Engine: the model folder or package name and the
// compute type, as in "de-en (int8)".
func (e *Engine) Model() string { return e.name }

// Limits implements mt.Engine.
func (e *Engine) Limits() mt.Limits { return e.limits }

// Translate implements mt.Engine.
func (e *Engine) Translate(ctx context.Context, req mt.Request) (mt.Result, error) {
	if e.limits.MaxSegments > 0 && len(req.Segments) > e.limits.MaxSegments {
		return mt.Result{}, &mt.Error{Engine: "ct2", Class: mt.ErrPermanent, Message: fmt.Sprintf("%d segments exceed the limit of %d", len(req.Segments), e.limits.MaxSegments)}
	}
	// A model given no tokens still decodes something; blank stays blank.
	filled, idx, texts := mt.NonBlank(req.Segments)
	src := make([][]string, len(texts))
	for i, s := range texts {
		if e.tok != nil {
			src[i] = e.tok.Encode(s)
		} else {
			src[i] = strings.Fields(s)
		}
	}
	res, err := e.model.TranslateBatch(ctx, src, e.decode)
	if err != nil {
		if ctx.Err() != nil {
			return mt.Result{}, fmt.Errorf("ct2: translate: %w", err)
		}
		return mt.Result{}, &mt.Error{Engine: "ct2", Class: mt.ErrPermanent, Message: err.Error()}
	}
	for k, r := range res {
		if e.tok != nil {
			filled[idx[k]] = e.tok.Decode(r.Tokens)
		} else {
			filled[idx[k]] = strings.Join(r.Tokens, " ")
		}
	}
	return mt.Result{Translations: filled}, nil
}
