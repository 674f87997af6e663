package mt

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Glossary entry: a German source term and the English form it must become.
type Term struct {
	DE string
	EN string
}

// Request is one batch of segments for an engine.
type Request struct {
	SourceLang string // "de"
	TargetLang string // "en"
	Segments   []string
	Glossary   []Term // entity forms that must survive translation
}

// Result is the engine's answer to a Request: one translation per segment, in order.
type Result struct {
	Translations []string
	BilledChars  int // characters the engine charges for (0 for free engines)
	// Unprotected lists segments (indexes into Request.Segments) the engine
	// had to translate without entity protection.
	Unprotected []int
}

// Limits bounds one request to an engine. Zero means unlimited.
type Limits struct {
	MaxSegments int // texts per request
	MaxBytes    int // request payload bytes
}

// Engine is a translation backend.
type Engine interface {
	// Name is the engine's registry name: none, ct2, deepl, libretranslate, openai.
	Name() string
	// Model names the model or service variant, for the record and the memory key.
	Model() string
	// Limits says how large one Translate call may be.
	Limits() Limits
	// Translate translates a batch. Errors are classified with the sentinel
	// errors below (errors.Is), usually through *Error.
	Translate(ctx context.Context, req Request) (Result, error)
}

// Error classes. Use errors.Is against an engine's error.
var (
	ErrRetryable = errors.New("mt: retryable engine error") // 429, 5xx, network
	ErrQuota     = errors.New("mt: engine quota exhausted") // pause until it lifts
	ErrAuth      = errors.New("mt: engine rejected credentials")
	ErrPermanent = errors.New("mt: permanent engine error") // the input can never succeed
)

// Error is an engine failure with its class and, where the engine said so,
// how long to wait.
type Error struct {
	Engine     string
	Class      error // one of the sentinel errors
	Status     int   // HTTP status, 0 if none
	RetryAfter time.Duration
	Message    string
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s: %v (HTTP %d): %s", e.Engine, e.Class, e.Status, e.Message)
	}
	return fmt.Sprintf("%s: %v: %s", e.Engine, e.Class, e.Message)
}

// Unwrap lets errors.Is match the class.
func (e *Error) Unwrap() error { return e.Class }

// RetryAfter returns the wait an engine asked for, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}
