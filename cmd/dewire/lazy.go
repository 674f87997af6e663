package main

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/mt"
)

// lazyTranslator lets the pipeline start before its translator exists
// (the translation memory lives on the pipeline's own server).
type lazyTranslator struct {
	tr atomic.Pointer[mt.Translator]
}

func (l *lazyTranslator) set(tr *mt.Translator) { l.tr.Store(tr) }

func (l *lazyTranslator) Translate(ctx context.Context, a *article.Article) error {
	tr := l.tr.Load()
	if tr == nil {
		return errors.New("translator not ready yet")
	}
	return tr.Translate(ctx, a)
}
