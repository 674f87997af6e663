package article

import (
	"fmt"
	"strconv"
	"time"
)

// Schema is the value of the "schema" field of every record this package writes.
const Schema = "dewire.article/v1"

// Stage names used in edits, flags and traces.
const (
	StageIngest      = "ingest"
	StageNormalizeDE = "normalize-de"
	StageTranslate   = "translate"
	StageNormalizeEN = "normalize-en"
	StageSink        = "sink"
)

// Article is one news article in flight through the pipeline.
type Article struct {
	Schema   string      `json:"schema"`
	ID       string      `json:"id"`
	Rev      int         `json:"rev"`
	Hash     string      `json:"hash"` // content hash of the German text as ingested
	Source   Source      `json:"source"`
	Lang     Lang        `json:"lang"`
	DE       Text        `json:"de"`
	EN       *Text       `json:"en,omitempty"`
	Segments []Segment   `json:"segments"` // [] until translated; see MarshalJSON
	Entities []Entity    `json:"entities"`
	Edits    []Edit      `json:"edits"`
	Flags    []Flag      `json:"flags"`
	Engine   *Engine     `json:"engine,omitempty"`
	Trace    []TraceStep `json:"trace"`
	Reject   *Reject     `json:"reject,omitempty"` // set only on articles.rejected.*
}

// Reject says why an input never entered the pipeline.
type Reject struct {
	Code   string `json:"code"`          // e.g. lang.not_german, input.too_large, input.invalid_utf8
	Reason string `json:"reason"`        // one sentence a human can act on
	Raw    []byte `json:"raw,omitempty"` // the offending input (truncated to 64 KiB), base64 in JSON
}

// Source says where an article came from.
type Source struct {
	Name        string     `json:"name"`
	URL         string     `json:"url,omitempty"`
	GUID        string     `json:"guid,omitempty"`
	Path        string     `json:"path,omitempty"` // file the article was read from, if any
	PublishedAt *time.Time `json:"published_at,omitempty"`
	IngestedAt  time.Time  `json:"ingested_at"`
}

// Lang is the outcome of the language gate.
type Lang struct {
	Code       string  `json:"code"`
	Confidence float64 `json:"confidence"`
}

// Text is an article body in one language.
type Text struct {
	Title      string   `json:"title"`
	Lead       string   `json:"lead,omitempty"`
	Paragraphs []string `json:"paragraphs"`
}

// Segment is one translated sentence pair.
type Segment struct {
	Para       int    `json:"para"` // index into paragraphs; -2 title, -1 lead
	DE         string `json:"de"`
	EN         string `json:"en"`
	FromMemory bool   `json:"from_memory,omitempty"`
}

// Segment paragraph indexes for the title and the lead.
const (
	ParaTitle = -2
	ParaLead  = -1
)

// Entity is a canonical named entity found in the article.
type Entity struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind,omitempty"` // person, place, org
	DE       string    `json:"de"`
	EN       string    `json:"en"`
	Mentions []Mention `json:"mentions"`
}

// Mention is one occurrence of an entity in a field.
type Mention struct {
	Field  string `json:"field"`
	Offset int    `json:"offset"`
	Text   string `json:"text"`
}

// Edit is one change a stage made to the text of one field.
//
// Offset is the byte offset (UTF-8, not runes) of Before in the field's text
// as it stood just before this edit; edits are listed in the order they were
// applied, so replaying them in order reproduces the result.
//
// FinalOffset is the byte offset of After in the field's final text, the
// text the record carries (see SetFinalOffsets): a UI highlights
// text[FinalOffset:FinalOffset+len(After)] without replaying anything. When a
// later edit changed part of After, the span at FinalOffset is what that
// later edit left of it.
type Edit struct {
	Stage       string `json:"stage"`
	Rule        string `json:"rule"`
	Field       string `json:"field"`
	Offset      int    `json:"offset"`
	FinalOffset int    `json:"final_offset"`
	Before      string `json:"before"`
	After       string `json:"after"`
	// Evidence says what justified the edit (a name edit's rule input:
	// gazetteer entry, transliteration key, in-article unification);
	// Confidence is how sure the stage was, 0–1 (0: not stated).
	Evidence   string  `json:"evidence,omitempty"`
	Confidence float64 `json:"confidence,omitempty"`
}

// Flag is something a human should look at.
type Flag struct {
	Stage   string `json:"stage,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	Offset  int    `json:"offset,omitempty"`
	// Suggestion is the text the stage would have written, had it been sure.
	Suggestion string `json:"suggestion,omitempty"`
}

// Engine records how the English text was made.
type Engine struct {
	Name        string `json:"name"`
	Model       string `json:"model,omitempty"`
	Segments    int    `json:"segments"`
	FromMemory  int    `json:"from_memory"`
	Translated  int    `json:"translated"`
	BilledChars int    `json:"billed_chars"`
	SentChars   int    `json:"sent_chars"` // characters sent to the engine, retries included
}

// TraceStep records when a stage finished with the article.
type TraceStep struct {
	Stage string    `json:"stage"`
	At    time.Time `json:"at"`
	Took  Duration  `json:"took_ms"`
}

// Duration marshals as whole-or-fractional milliseconds.
type Duration time.Duration

// MarshalJSON writes the duration in milliseconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(d)/float64(time.Millisecond), 'f', -1, 64), nil
}

// UnmarshalJSON reads a duration in milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // as for any number
	}
	// b is one JSON value: a number reads as ParseFloat reads it, and any
	// other value (a string, true) is refused; ParseFloat's own extras
	// (Inf, hexadecimal) are not JSON numbers and are refused too.
	ms, err := strconv.ParseFloat(string(b), 64)
	if err != nil || !jsonNumber(b) {
		return fmt.Errorf("duration: %s is not a number of milliseconds", b)
	}
	*d = Duration(ms * float64(time.Millisecond))
	return nil
}

// jsonNumber reports whether b is spelled as a JSON number: an optional
// minus, digits, an optional fraction and exponent.
func jsonNumber(b []byte) bool {
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9', c == '.', c == 'e', c == 'E':
		case c == '-' && i == 0, (c == '-' || c == '+') && i > 0 && (b[i-1] == 'e' || b[i-1] == 'E'):
		default:
			return false
		}
	}
	return len(b) > 0
}

// Flag codes used across stages.
const (
	FlagTranslationSkipped = "translation.skipped"
)

// AddTrace appends a trace step.
func (a *Article) AddTrace(stage string, at time.Time, took time.Duration) {
	a.Trace = append(a.Trace, TraceStep{Stage: stage, At: at.UTC(), Took: Duration(took)})
}

// AddFlag appends a flag.
func (a *Article) AddFlag(f Flag) { a.Flags = append(a.Flags, f) }

// HasFlag reports whether a flag with the code is present.
func (a *Article) HasFlag(code string) bool {
	for _, f := range a.Flags {
		if f.Code == code {
			return true
		}
	}
	return false
}

// Key is the article's identity within the sink: id and revision.
func (a *Article) Key() string { return fmt.Sprintf("%s@%d", a.ID, a.Rev) }

// Text returns the body in the language ("de" or "en"), nil if absent.
func (a *Article) Text(lang string) *Text {
	switch lang {
	case "de":
		return &a.DE
	case "en":
		return a.EN
	}
	return nil
}
