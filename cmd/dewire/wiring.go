package main

import (
	"context"
	"errors"
	"os"

	"go.uber.org/zap"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/engines"
	"github.com/dewire/dewire/pipeline/names"
	"github.com/dewire/dewire/pipeline/normalize"
)

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

// open opens the engine the flags and the environment name.
func (e *engineFlags) open(ctx context.Context) (mt.Engine, string, error) {
	cfg := engines.Config{
		Name:     e.engine,
		DeepLURL: e.deeplURL, DeepLAuthKey: os.Getenv("DEWIRE_DEEPL_AUTH_KEY"), DeepLTarget: e.deeplTarget,
		LibreTranslateURL: e.libretranslateURL, LibreTranslateAPIKey: os.Getenv("DEWIRE_LIBRETRANSLATE_API_KEY"),
		OpenAIURL: e.openaiURL, OpenAIModel: e.openaiModel, OpenAIAPIKey: os.Getenv("DEWIRE_OPENAI_API_KEY"),
		CT2: e.ct2,
	}
	if cfg.DeepLAuthKey != "" {
		// One DeepL glossary from the whole gazetteer serves every article.
		if g, err := names.Default(); err == nil {
			for _, ent := range g.Entities() {
				if ent.DE != "" && ent.EN != "" && ent.DE != ent.EN {
					cfg.DeepLGlossary = append(cfg.DeepLGlossary, mt.Term{DE: ent.DE, EN: ent.EN})
				}
			}
		}
	}
	eng, hint, err := engines.Open(ctx, cfg)
	if errors.Is(err, engines.ErrNotConfigured) || errors.Is(err, engines.ErrUnknownEngine) {
		return nil, "", &usageError{err}
	}
	return eng, hint, err
}

func newTranslator(eng mt.Engine, memory mt.Memory, _ *zap.Logger) *mt.Translator {
	return &mt.Translator{Engine: eng, Memory: memory}
}
