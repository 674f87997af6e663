package mttest

import (
	"context"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dewire/dewire/pipeline/mt"
)

// Secret is the credential factories must give their engines, so Run can
// check that it never shows in an error.
const Secret = "dewire-test-secret-3f9a:fx"

// Fake is the "translation" test servers return: "[en] " and the text with
// each glossary term's German form replaced by its English form. Blank
// text stays as it is.
func Fake(text string, glossary []mt.Term) string {
	if strings.TrimSpace(text) == "" {
		return text
	}
	p := mt.Protect(text, glossary)
	out, _ := p.Restore("[en] " + p.Text)
	return out
}

// Engine is an in-process engine that translates with Fake and records
// what it was sent. Fail, when set, may fail a call (counted from 1).
type Engine struct {
	EngineName string // default "fake"
	ModelName  string
	Lim        mt.Limits
	Fail       func(call int, req mt.Request) error

	mu       sync.Mutex
	calls    int
	segments int
	chars    int
	batches  []int
	inFlight int
	maxIn    int
}

// Name implements mt.Engine.
func (e *Engine) Name() string {
	if e.EngineName == "" {
		return "fake"
	}
	return e.EngineName
}

// Model implements mt.Engine.
func (e *Engine) Model() string { return e.ModelName }

// Limits implements mt.Engine.
func (e *Engine) Limits() mt.Limits { return e.Lim }

// Translate implements mt.Engine.
func (e *Engine) Translate(ctx context.Context, req mt.Request) (mt.Result, error) {
	e.mu.Lock()
	e.calls++
	call := e.calls
	e.inFlight++
	e.maxIn = max(e.maxIn, e.inFlight)
	e.batches = append(e.batches, len(req.Segments))
	e.segments += len(req.Segments)
	for _, s := range req.Segments {
		e.chars += utf8.RuneCountInString(s)
	}
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.inFlight--
		e.mu.Unlock()
	}()
	if err := ctx.Err(); err != nil {
		return mt.Result{}, err
	}
	if e.Fail != nil {
		if err := e.Fail(call, req); err != nil {
			return mt.Result{}, err
		}
	}
	out := make([]string, len(req.Segments))
	billed := 0
	for i, s := range req.Segments {
		out[i] = Fake(s, req.Glossary)
		billed += utf8.RuneCountInString(s)
	}
	return mt.Result{Translations: out, BilledChars: billed}, nil
}

// Counts is what an Engine was sent.
type Counts struct {
	Calls       int   // Translate calls
	Segments    int   // segments over all calls
	Chars       int   // code points over all calls
	Batches     []int // segments per call
	MaxInFlight int   // most concurrent calls seen
}

// Counts returns what the engine was sent so far.
func (e *Engine) Counts() Counts {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Counts{Calls: e.calls, Segments: e.segments, Chars: e.chars, Batches: append([]int(nil), e.batches...), MaxInFlight: e.maxIn}
}
