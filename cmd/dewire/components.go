package main

import (
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/pipeline/langid"
	"github.com/dewire/dewire/pipeline/mt/ct2"
	"github.com/dewire/dewire/pipeline/mt/engines"
	"github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/sink"
	"github.com/dewire/dewire/workers/translate"
)

// normFlags choose the desk style of both normalizers.
type normFlags struct {
	style string
}

func (n *normFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&n.style, "style", "", "desk style file (YAML): quote styles, name overrides, contested-name policy")
}

func (n *normFlags) normalizer(lang string) (*normalize.Normalizer, error) {
	var st *normalize.Style
	if n.style != "" {
		var err error
		if st, err = normalize.LoadStyleFile(n.style); err != nil {
			return nil, usagef("--style: %v", err)
		}
	}
	return normalize.NewWithStyle(lang, st)
}

// normalizers builds the German and English normalizers in the desk's style.
func (n *normFlags) normalizers() (de, en *normalize.Normalizer, err error) {
	if de, err = n.normalizer("de"); err != nil {
		return nil, nil, err
	}
	if en, err = n.normalizer("en"); err != nil {
		return nil, nil, err
	}
	return de, en, nil
}

// intakeFlags bound what ingest accepts.
type intakeFlags struct {
	maxBytes      int
	maxParagraphs int
	minConfidence float64
}

func (f *intakeFlags) register(fs *pflag.FlagSet) {
	fs.IntVar(&f.maxBytes, "max-bytes", intake.DefaultMaxBytes, "largest article accepted, in bytes (at most an eighth of the server's max_payload)")
	fs.IntVar(&f.maxParagraphs, "max-paragraphs", intake.DefaultMaxParagraphs, "most paragraphs accepted in one article")
	fs.Float64Var(&f.minConfidence, "min-confidence", langid.DefaultMinConfidence, "least confidence that an article is German")
}

func (f *intakeFlags) reader() (*intake.Reader, error) {
	gate, err := langid.New(langid.Options{MinConfidence: f.minConfidence})
	if err != nil {
		return nil, usagef("%v", err)
	}
	return &intake.Reader{Limits: intake.Limits{MaxBytes: f.maxBytes, MaxParagraphs: f.maxParagraphs}, Gate: gate}, nil
}

// engineFlags choose and configure the translation engine.
type engineFlags struct {
	engine            string
	model             string
	computeType       string
	deeplURL          string
	deeplTarget       string
	libretranslateURL string
	openaiURL         string
	openaiModel       string
}

func (e *engineFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&e.engine, "engine", "auto", "translation engine: auto, none, ct2, deepl, libretranslate, openai")
	fs.StringVar(&e.model, "model", "", "ct2: CTranslate2 model folder or .argosmodel file (default: the installed de-en model)")
	fs.StringVar(&e.computeType, "compute-type", ct2.DefaultComputeType.String(), "ct2: how products are computed: "+strings.Join(ct2.ComputeTypeNames(), ", ")+" (int8_float32: int8 weights widened to float32; float32: weights dequantized at load)")
	fs.StringVar(&e.deeplURL, "deepl-url", "", "DeepL API URL (default from the key: keys ending in :fx use the free API); key in $DEWIRE_DEEPL_AUTH_KEY")
	fs.StringVar(&e.deeplTarget, "deepl-target", "EN-US", "DeepL target language: EN-US or EN-GB")
	fs.StringVar(&e.libretranslateURL, "libretranslate-url", "", "LibreTranslate URL; key in $DEWIRE_LIBRETRANSLATE_API_KEY")
	fs.StringVar(&e.openaiURL, "openai-url", "", "OpenAI-compatible server URL (vLLM, Ollama, llama.cpp); key in $DEWIRE_OPENAI_API_KEY")
	fs.StringVar(&e.openaiModel, "openai-model", "", "model name for the OpenAI-compatible server")
}

// config is the engine the flags and the environment name; keys come only
// from the environment.
func (e *engineFlags) config() translate.EngineConfig {
	return translate.EngineConfig{
		Config: engines.Config{
			Name:     e.engine,
			DeepLURL: e.deeplURL, DeepLAuthKey: os.Getenv("DEWIRE_DEEPL_AUTH_KEY"), DeepLTarget: e.deeplTarget,
			LibreTranslateURL: e.libretranslateURL, LibreTranslateAPIKey: os.Getenv("DEWIRE_LIBRETRANSLATE_API_KEY"),
			OpenAIURL: e.openaiURL, OpenAIModel: e.openaiModel, OpenAIAPIKey: os.Getenv("DEWIRE_OPENAI_API_KEY"),
		},
		Model:       e.model,
		ComputeType: e.compute(),
	}
}

// compute is the --compute-type value; validate has refused any other.
func (e *engineFlags) compute() ct2.ComputeType {
	c, err := ct2.ParseComputeType(e.computeType)
	if err != nil {
		return ct2.DefaultComputeType
	}
	return c
}

// sinkFlags choose the sink's destinations beside JSONL.
type sinkFlags struct {
	tmx     bool
	dsnFile string
}

func (s *sinkFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&s.tmx, "tmx", true, "also write TMX 1.4b per day beside the JSONL")
	fs.StringVar(&s.dsnFile, "postgres-dsn-file", "", "file holding a PostgreSQL DSN; records are upserted on (id, rev) ($DEWIRE_POSTGRES_DSN also works)")
}

// options are the sink options the flags name; the DSN comes from a file or
// the environment.
func (s *sinkFlags) options(out string) (sink.Options, error) {
	dsn, err := secret("DEWIRE_POSTGRES_DSN", s.dsnFile)
	if err != nil {
		return sink.Options{}, err
	}
	return sink.Options{Out: out, TMX: s.tmx, ToolVersion: version, PostgresDSN: dsn}, nil
}

// feedFlags name RSS/Atom feeds to poll.
type feedFlags struct {
	urls     []string
	interval time.Duration
}

func (f *feedFlags) register(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.urls, "feed", nil, "RSS or Atom feed URL to poll (repeatable, or comma-separated)")
	fs.DurationVar(&f.interval, "feed-interval", 5*time.Minute, "how often feeds are polled (run polls once unless --watch)")
}
