package normalize

import (
	"context"

	"github.com/dewire/dewire/pipeline/article"
	pnorm "github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/stage"
)

// Handler returns the stage handler for n's language: German output goes to
// articles.normalized, English output to articles.clean.
func Handler(n *pnorm.Normalizer) stage.Handler {
	if n.Lang() == "de" {
		return stage.Articles(article.StageNormalizeDE, bus.Normalized, apply(n))
	}
	return stage.Articles(article.StageNormalizeEN, bus.Clean, apply(n))
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

func apply(n *pnorm.Normalizer) stage.ArticleFunc {
	return func(_ context.Context, a *article.Article) error {
		n.Article(a)
		return nil
	}
}
