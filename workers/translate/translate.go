package translate

import (
	"context"
	"errors"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/stage"
)

// Translator is what the worker needs of pipeline/mt.
type Translator interface {
	Translate(ctx context.Context, a *article.Article) error
}

// DefaultPauseProbe is the first wait before a paused stage retries the engine.
const DefaultPauseProbe = 30 * time.Second

// Handler returns the stage handler. probe is the first wait before a
// paused stage retries the engine (0: 30s).
func Handler(tr Translator, probe time.Duration) stage.Handler {
	if probe <= 0 {
		probe = DefaultPauseProbe
	}
	return stage.Articles(article.StageTranslate, bus.Translated, func(ctx context.Context, a *article.Article) error {
		return Classify(tr.Translate(ctx, a), probe)
	})
}

// Classify maps an engine error onto stage behaviour.
func Classify(err error, probe time.Duration) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mt.ErrQuota), errors.Is(err, mt.ErrAuth):
		// Every article would fail the same way: stop pulling until the engine answers again.
		return stage.Pause(err, probe)
	case errors.Is(err, mt.ErrPermanent):
		return stage.Permanent(err)
	}
	return err
}

// Config fills the stage configuration of the translate consumer.
func Config(base stage.Config) stage.Config {
	base.Name, base.Stream, base.Consumer = article.StageTranslate, bus.StreamNormalized, bus.ConsumerTranslate
	return base
}
