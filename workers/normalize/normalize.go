package normalize

import (
	"context"
	"errors"

	"github.com/dewire/dewire/pipeline/article"
	pnorm "github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/stage"
)

// Handler returns the stage handler for n's language: German output goes to
// articles.normalized, English output to articles.clean.
func Handler(n *pnorm.Normalizer) stage.Handler { return HandlerWithNames(n, nil) }

// HandlerWithNames is Handler that also applies the desk's run-time names.
func HandlerWithNames(n *pnorm.Normalizer, desk *pnorm.DeskNames) stage.Handler {
	if n.Lang() == "de" {
		return stage.Articles(article.StageNormalizeDE, bus.Normalized, apply(n, desk))
	}
	return stage.Articles(article.StageNormalizeEN, bus.Clean, apply(n, desk))
}

// Config returns the stage configuration for n's language.
func Config(n *pnorm.Normalizer, base stage.Config) stage.Config {
	if n.Lang() == "de" {
		base.Name, base.Stream, base.Consumer = article.StageNormalizeDE, bus.StreamRaw, bus.ConsumerNormalizeDE
	} else {
		base.Name, base.Stream, base.Consumer = article.StageNormalizeEN, bus.StreamTranslated, bus.ConsumerNormalizeEN
	}
	return base
}

func apply(n *pnorm.Normalizer, desk *pnorm.DeskNames) stage.ArticleFunc {
	// The context ends the work on a huge paragraph when the stage shuts
	// down or the handler's deadline passes.
	return func(ctx context.Context, a *article.Article) error {
		return n.ApplyContext(ctx, a, desk)
	}
}

// Options choose the directions one normalize worker serves.
type Options struct {
	DE *pnorm.Normalizer // German before translation (consumer normalize-de); nil: not served
	EN *pnorm.Normalizer // English after translation (consumer normalize-en); nil: not served
	// DeskNames, when set, are kept up to date from the desk's names bucket
	// (bus.BucketDeskNames) and applied to every article after the gazetteer.
	DeskNames *pnorm.DeskNames
}

// Run is the normalize worker: a stage and a DLQ mover for each direction
// Options names, until ctx ends.
func Run(ctx context.Context, env stage.Env, o Options) error {
	var runs []func(context.Context) error
	for _, n := range []*pnorm.Normalizer{o.DE, o.EN} {
		if n == nil {
			continue
		}
		cfg := Config(n, env.Base())
		runs = append(runs,
			func(ctx context.Context) error { return env.RunStage(ctx, cfg, HandlerWithNames(n, o.DeskNames)) },
			func(ctx context.Context) error { return env.RunMover(ctx, cfg.Consumer) })
	}
	if len(runs) == 0 {
		return errors.New("normalize: no direction to serve")
	}
	if o.DeskNames != nil {
		runs = append(runs, func(ctx context.Context) error { return WatchDeskNames(ctx, env, o.DeskNames) })
	}
	return stage.Group(ctx, runs...)
}
