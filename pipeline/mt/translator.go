package mt

import (
	"context"
	"fmt"

	"github.com/dewire/dewire/pipeline/article"
)

// Translator turns an article's German text into English through an Engine.
type Translator struct {
	Engine Engine
}

// Translate fills a.EN, a.Segments and a.Engine. With the None engine it
// leaves the English empty and flags the record translation.skipped.
func (t *Translator) Translate(ctx context.Context, a *article.Article) error {
	eng := t.Engine
	if eng == nil {
		eng = None{}
	}
	if eng.Name() == "none" {
		a.Engine = &article.Engine{Name: "none"}
		if !a.HasFlag(article.FlagTranslationSkipped) {
			a.AddFlag(article.Flag{Stage: article.StageTranslate, Code: article.FlagTranslationSkipped, Message: NoneHint})
		}
		return nil
	}
	fields := a.DE.Fields("de")
	segs := make([]string, len(fields))
	for i, f := range fields {
		segs[i] = *f.Text
	}
	res, err := eng.Translate(ctx, Request{SourceLang: "de", TargetLang: "en", Segments: segs})
	if err != nil {
		return fmt.Errorf("translate %s: %w", a.Key(), err)
	}
	if len(res.Translations) != len(segs) {
		return fmt.Errorf("translate %s: %w", a.Key(), &Error{Engine: eng.Name(), Class: ErrPermanent,
			Message: fmt.Sprintf("engine returned %d translations for %d segments", len(res.Translations), len(segs))})
	}
	en := &article.Text{Title: res.Translations[0], Paragraphs: make([]string, len(a.DE.Paragraphs))}
	a.Segments = a.Segments[:0]
	i := 1
	para := article.ParaTitle
	a.Segments = append(a.Segments, article.Segment{Para: para, DE: segs[0], EN: res.Translations[0]})
	if a.DE.Lead != "" {
		en.Lead = res.Translations[i]
		a.Segments = append(a.Segments, article.Segment{Para: article.ParaLead, DE: segs[i], EN: res.Translations[i]})
		i++
	}
	for p := range a.DE.Paragraphs {
		en.Paragraphs[p] = res.Translations[i]
		a.Segments = append(a.Segments, article.Segment{Para: p, DE: segs[i], EN: res.Translations[i]})
		i++
	}
	a.EN = en
	a.Engine = &article.Engine{Name: eng.Name(), Model: eng.Model(), Segments: len(segs), Translated: len(segs), BilledChars: res.BilledChars}
	return nil
}
