package mt

import "context"

// None is the engine used when no engine is configured: it translates
// nothing, and the Translator marks the record translation.skipped.
type None struct{}

// Name implements Engine.
func (None) Name() string { return "none" }

// Model implements Engine.
func (None) Model() string { return "" }

// Limits implements Engine.
func (None) Limits() Limits { return Limits{} }

// Translate implements Engine; it is never asked for a translation.
func (None) Translate(context.Context, Request) (Result, error) {
	return Result{}, &Error{Engine: "none", Class: ErrPermanent, Message: "no translation engine configured"}
}

// NoneHint tells a user how to turn translation on.
const NoneHint = "no translation engine configured: run `dewire model pull de-en` for the embedded engine, or set DEWIRE_DEEPL_AUTH_KEY, --libretranslate-url or --openai-url"
