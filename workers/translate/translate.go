package translate

import (
	"context"
	"errors"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/stage"
	"github.com/dewire/dewire/workers/tm"
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

// Options configure a translate worker.
type Options struct {
	// Engine translates; nil opens EngineConfig.
	Engine       mt.Engine
	EngineConfig EngineConfig
	// Memory is the translation memory; nil binds the shared KV bucket.
	Memory mt.Memory
	// Translator, when set, replaces engine and memory (tests).
	Translator Translator
	// PauseProbe is the first wait before a paused stage retries the engine (0: 30s).
	PauseProbe time.Duration
}

// Run is the translate worker: the translate stage and its DLQ mover until
// ctx ends. The translation memory bucket is bound with retries, like the consumer.
func Run(ctx context.Context, env stage.Env, o Options) error {
	met := newMetrics(env.Registry)
	tr := o.Translator
	if tr == nil {
		eng := o.Engine
		if eng == nil {
			var err error
			if eng, err = OpenEngine(ctx, o.EngineConfig, env.Log); err != nil {
				return err
			}
		}
		memory := o.Memory
		if memory == nil {
			var kv *tm.KV
			err := env.Retry(ctx, "translation memory", func(ctx context.Context) error {
				bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				var err error
				kv, err = tm.NewKV(bctx, env.JS, bus.BucketMemory)
				if err == nil {
					env.Health.Set("translation memory", nil)
				}
				return err
			})
			if kv == nil {
				return err // ctx ended before the bucket could be bound
			}
			memory = kv
		}
		tr = NewTranslator(instrumented{eng, met}, memory)
	}
	tr = counting{tr, met}
	cfg := Config(env.Base())
	return stage.Group(ctx,
		func(ctx context.Context) error { return env.RunStage(ctx, cfg, Handler(tr, o.PauseProbe)) },
		func(ctx context.Context) error { return env.RunMover(ctx, cfg.Consumer) })
}
