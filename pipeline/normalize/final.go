package normalize

import (
	"context"
	"strings"
	"unicode"

	"github.com/dewire/dewire/pipeline/article"
)

// Apply is what a normalize stage does to an article: Article, then the
// desk's run-time names (nil: none), then, in English, the segments are
// given the final English of their sentences (the engine's raw English
// would otherwise reach translators' memories), and every edit gets its
// offset in the final text.
func (n *Normalizer) Apply(a *article.Article, desk *DeskNames) {
	_ = n.ApplyContext(context.Background(), a, desk)
}

// ApplyContext is Apply that stops, with ctx's error and a unchanged by
// the rest, when ctx ends during the normalization.
func (n *Normalizer) ApplyContext(ctx context.Context, a *article.Article, desk *DeskNames) error {
	var spans []segmentSpan
	if n.lang == "en" && a.EN != nil {
		spans = locateSegments(a)
	}
	first := len(a.Edits)
	if err := n.ArticleContext(ctx, a); err != nil {
		return err
	}
	desk.apply(n, a)
	if spans != nil {
		carryFinalEnglish(a, spans, a.Edits[first:])
	}
	a.SetFinalOffsets()
	return nil
}

// segmentSpan is where one segment's English lies in its English field.
type segmentSpan struct {
	field string
	span  article.Span
	ok    bool
}

func segmentField(para int) string {
	switch para {
	case article.ParaTitle:
		return "en.title"
	case article.ParaLead:
		return "en.lead"
	}
	return article.ParagraphField("en", para)
}

func fieldText(t *article.Text, name string) (string, bool) {
	for _, f := range t.Fields("en") {
		if f.Name == name {
			return *f.Text, true
		}
	}
	return "", false
}

// locateSegments finds each segment's English in its field: the translator
// writes a field as its sentences in order with the German gaps between them.
func locateSegments(a *article.Article) []segmentSpan {
	out := make([]segmentSpan, len(a.Segments))
	texts := map[string]string{}
	for _, f := range a.EN.Fields("en") {
		texts[f.Name] = *f.Text
	}
	next := map[string]int{}
	for i, s := range a.Segments {
		name := segmentField(s.Para)
		text, ok := texts[name]
		from := next[name]
		at := -1
		if ok && from <= len(text) {
			at = strings.Index(text[from:], s.EN)
		}
		if at < 0 {
			out[i] = segmentSpan{field: name}
			continue
		}
		sp := article.Span{Start: from + at, End: from + at + len(s.EN)}
		next[name] = sp.End
		out[i] = segmentSpan{field: name, span: sp, ok: true}
	}
	return out
}

// carryFinalEnglish follows each segment's span through the edits made
// since the spans were located and cuts the segment's English from the
// final field. A field with a segment that could not be located becomes one
// segment: its whole German and its whole final English.
func carryFinalEnglish(a *article.Article, spans []segmentSpan, edits []article.Edit) {
	lost := map[string]bool{}
	for _, sp := range spans {
		if !sp.ok {
			lost[sp.field] = true
		}
	}
	out := a.Segments[:0:0]
	merged := map[string]int{} // field → index in out of its merged segment
	for i, s := range a.Segments {
		sp := spans[i]
		text, ok := fieldText(a.EN, sp.field)
		if !ok {
			continue // no such field any more: nothing the segment could carry
		}
		if lost[sp.field] {
			if j, seen := merged[sp.field]; seen {
				out[j].DE += " " + s.DE
				out[j].FromMemory = out[j].FromMemory && s.FromMemory
				continue
			}
			merged[sp.field] = len(out)
			s.EN = strings.TrimSpace(text)
			out = append(out, s)
			continue
		}
		span := sp.span
		for _, e := range edits {
			if e.Field == sp.field {
				span = article.MapSpan(span, e)
			}
		}
		span.Start, span.End = min(span.Start, len(text)), min(span.End, len(text))
		s.EN = strings.TrimFunc(text[span.Start:span.End], unicode.IsSpace)
		out = append(out, s)
	}
	a.Segments = out
}
