package main

import (
	"context"

	"go.uber.org/zap"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/normalize"
)

func (n *normFlags) normalizer(lang string) (*normalize.Normalizer, error) {
	if n.style != "" {
		return nil, usagef("--style is not available in this build")
	}
	return normalize.New(lang)
}

func (e *engineFlags) open(ctx context.Context) (mt.Engine, string, error) {
	switch e.engine {
	case "auto", "none", "":
		return mt.None{}, mt.NoneHint, nil
	}
	return nil, "", usagef("--engine %q is not available in this build", e.engine)
}

func newTranslator(eng mt.Engine, memory mt.Memory, _ *zap.Logger) *mt.Translator {
	return &mt.Translator{Engine: eng, Memory: memory}
}
