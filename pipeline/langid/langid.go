package langid

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dewire/dewire/pipeline/article"
	lingua "github.com/pemistahl/lingua-go"
)

// Defaults for the zero Options.
const (
	DefaultMinConfidence = 0.5
	DefaultSampleBytes   = 3 << 10
	DefaultLinguaBytes   = 512
)

// languages is the set the gate tells apart: German and the languages that
// reach a German desk by mistake (wire services in the region's languages and
// their English, French and Spanish editions). It is never written.
var languages = []lingua.Language{
	lingua.German,
	lingua.English,
	lingua.Russian,
	lingua.Ukrainian,
	lingua.French,
	lingua.Spanish,
	lingua.Italian,
	lingua.Polish,
	lingua.Turkish,
	lingua.Dutch,
	lingua.Azerbaijani,
}

// Languages returns the ISO 639-1 codes the gate can report.
func Languages() []string {
	out := make([]string, len(languages))
	for i, l := range languages {
		out[i] = strings.ToLower(l.IsoCode639_1().String())
	}
	return out
}

// Options configures a Gate; the zero value gives the defaults.
type Options struct {
	// MinConfidence is the least confidence at which German is accepted
	// (default DefaultMinConfidence).
	MinConfidence float64
	// SampleBytes bounds how much of an article is looked at (default
	// DefaultSampleBytes); the start of an article decides its language.
	SampleBytes int
	// LinguaBytes bounds the text handed to lingua when the function-word
	// profile is not conclusive (default DefaultLinguaBytes): lingua costs
	// about 25 µs per word, so a whole article would take milliseconds.
	LinguaBytes int
	// LinguaOnly skips the function-word profile and asks lingua every time:
	// slower, for comparisons and tests.
	LinguaOnly bool
}

// Gate classifies text by language. It is safe for concurrent use: lingua's
// detector keeps its models in read-only maps behind sync.Map, and the
// profile tables are never written after New.
type Gate struct {
	opts     Options
	detector lingua.LanguageDetector
	profile  profile
}

// New builds a Gate with the language models loaded up front, so the first
// article is not slowed by loading them (about 0.25 s and 10 MiB of heap).
func New(opts Options) (*Gate, error) {
	if opts.MinConfidence == 0 {
		opts.MinConfidence = DefaultMinConfidence
	}
	if opts.SampleBytes == 0 {
		opts.SampleBytes = DefaultSampleBytes
	}
	if opts.LinguaBytes == 0 {
		opts.LinguaBytes = DefaultLinguaBytes
	}
	switch {
	case opts.MinConfidence < 0 || opts.MinConfidence > 1:
		return nil, fmt.Errorf("langid: min confidence %v: want 0..1", opts.MinConfidence)
	case opts.SampleBytes < 0:
		return nil, fmt.Errorf("langid: sample bytes %d: want > 0", opts.SampleBytes)
	case opts.LinguaBytes < 0:
		return nil, fmt.Errorf("langid: lingua bytes %d: want > 0", opts.LinguaBytes)
	}
	d := lingua.NewLanguageDetectorBuilder().
		FromLanguages(languages...).
		WithLowAccuracyMode().
		WithPreloadedLanguageModels().
		Build()
	return &Gate{opts: opts, detector: d, profile: newProfile()}, nil
}

// MinConfidence is the threshold IsGerman applies.
func (g *Gate) MinConfidence() float64 { return g.opts.MinConfidence }

// Detect returns the most likely language of text as an ISO 639-1 code and
// its confidence in 0..1, or "" and 0 when it cannot tell (no letters, or a
// tie). Only the first SampleBytes of text are looked at.
//
// Text whose function words are clearly German is decided from that profile
// alone, its confidence being the German share of the function words found;
// everything else is decided by lingua on the first LinguaBytes, with
// lingua's relative confidence.
func (g *Gate) Detect(text string) (code string, confidence float64) {
	text = prefix(text, g.opts.SampleBytes)
	if !g.opts.LinguaOnly {
		if conf, ok := g.profile.german(text); ok && conf >= g.opts.MinConfidence {
			return "de", conf
		}
	}
	return g.lingua(prefix(text, g.opts.LinguaBytes))
}

func (g *Gate) lingua(text string) (string, float64) {
	values := g.detector.ComputeLanguageConfidenceValues(text)
	if len(values) == 0 || values[0].Value() == 0 {
		return "", 0
	}
	if len(values) > 1 && values[0].Value() == values[1].Value() {
		return "", 0
	}
	return strings.ToLower(values[0].Language().IsoCode639_1().String()), values[0].Value()
}

// IsGerman decides on an article's text: title, lead and paragraphs in
// reading order, up to SampleBytes. ok is true when the text is German with
// at least MinConfidence; code and confidence are what Detect found.
func (g *Gate) IsGerman(t *article.Text) (ok bool, code string, confidence float64) {
	if t == nil {
		return false, "", 0
	}
	code, confidence = g.Detect(Sample(t, g.opts.SampleBytes))
	return code == "de" && confidence >= g.opts.MinConfidence, code, confidence
}

// Sample joins title, lead and paragraphs with newlines, stopping once max
// bytes are gathered (cut on a character boundary).
func Sample(t *article.Text, max int) string {
	var b strings.Builder
	add := func(s string) bool {
		if s == "" {
			return true
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		if room := max - b.Len(); len(s) > room {
			b.WriteString(prefix(s, room))
			return false
		}
		b.WriteString(s)
		return true
	}
	if !add(t.Title) || !add(t.Lead) {
		return b.String()
	}
	for _, p := range t.Paragraphs {
		if !add(p) {
			break
		}
	}
	return b.String()
}

// prefix cuts s to at most n bytes without splitting a character.
func prefix(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
