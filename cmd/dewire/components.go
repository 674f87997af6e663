package main

import (
	"context"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/pipeline/langid"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/normalize"
)

// normFlags choose the desk style of both normalizers.
type normFlags struct {
	style string
}

func (n *normFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&n.style, "style", "", "desk style file (YAML): quote styles, name overrides, contested-name policy")
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
	fs.IntVar(&f.maxBytes, "max-bytes", intake.DefaultMaxBytes, "largest article accepted, in bytes")
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
	deeplURL          string
	deeplTarget       string
	libretranslateURL string
	openaiURL         string
	openaiModel       string
}

func (e *engineFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&e.engine, "engine", "auto", "translation engine: auto, none, ct2, deepl, libretranslate, openai")
	fs.StringVar(&e.model, "model", "", "ct2: CTranslate2 model folder or .argosmodel file (default: the installed de-en model)")
	fs.StringVar(&e.deeplURL, "deepl-url", "", "DeepL API URL (default from the key: keys ending in :fx use the free API); key in $DEWIRE_DEEPL_AUTH_KEY")
	fs.StringVar(&e.deeplTarget, "deepl-target", "EN-US", "DeepL target language: EN-US or EN-GB")
	fs.StringVar(&e.libretranslateURL, "libretranslate-url", "", "LibreTranslate URL; key in $DEWIRE_LIBRETRANSLATE_API_KEY")
	fs.StringVar(&e.openaiURL, "openai-url", "", "OpenAI-compatible server URL (vLLM, Ollama, llama.cpp); key in $DEWIRE_OPENAI_API_KEY")
	fs.StringVar(&e.openaiModel, "openai-model", "", "model name for the OpenAI-compatible server")
}

// translator opens the engine and wraps it in a Translator.
func (e *engineFlags) translator(ctx context.Context, memory mt.Memory, log *zap.Logger) (*mt.Translator, error) {
	eng, hint, err := e.open(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case hint != "" && eng.Name() == "none":
		log.Warn(hint)
	case hint != "":
		log.Info(hint)
	}
	log.Info("translation engine", zap.String("engine", eng.Name()), zap.String("model", eng.Model()))
	return newTranslator(eng, memory, log), nil
}
