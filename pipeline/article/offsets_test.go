package article_test

import (
	"strings"
	"testing"

	"github.com/dewire/dewire/pipeline/article"
)

// apply performs e on s as a stage did.
func apply(s string, e article.Edit) string {
	return s[:e.Offset] + e.After + s[e.Offset+len(e.Before):]
}

func TestMapSpanFollowsTextThroughAnEdit(t *testing.T) {
	const text = `He said "we won." Then he left.`
	first := article.Span{Start: 0, End: 17} // He said "we won."
	second := article.Span{Start: 18, End: 31}
	for _, tc := range []struct {
		name        string
		edit        article.Edit
		first, next string
	}{
		{"an edit before the span shifts it", article.Edit{Offset: 8, Before: `"`, After: "“"}, `He said “we won."`, "Then he left."},
		{"an edit at the span's end belongs to it", article.Edit{Offset: 15, Before: `."`, After: ".”"}, `He said "we won.”`, "Then he left."},
		{"an insertion at a span's end belongs to it", article.Edit{Offset: 17, Before: "", After: "”"}, `He said "we won."”`, "Then he left."},
		{"a whole-text edit moves only what it changed", article.Edit{Offset: 0, Before: text, After: strings.Replace(text, "Then", "Later", 1)}, `He said "we won."`, "Later he left."},
		{"an edit across a boundary widens the span it ends", article.Edit{Offset: 16, Before: `" Then`, After: `”Then`}, `He said "we won.”`, `Then he left.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := apply(text, tc.edit)
			a, b := article.MapSpan(first, tc.edit), article.MapSpan(second, tc.edit)
			if got := out[a.Start:a.End]; got != tc.first {
				t.Errorf("first span %q, want %q", got, tc.first)
			}
			if got := out[b.Start:b.End]; got != tc.next {
				t.Errorf("second span %q, want %q", got, tc.next)
			}
		})
	}
}

func FuzzMapSpanStaysInsideTheNewText(f *testing.F) {
	f.Add("Der Präsident sagte „ja“.", 4, 13, 0, 3, "Die")
	f.Add("abc", 0, 3, 1, 1, "")
	f.Fuzz(func(t *testing.T, s string, start, end, off, n int, after string) {
		if start < 0 || end < start || end > len(s) || off < 0 || n < 0 || off+n > len(s) {
			return
		}
		e := article.Edit{Offset: off, Before: s[off : off+n], After: after}
		out := apply(s, e)
		sp := article.MapSpan(article.Span{Start: start, End: end}, e)
		if sp.Start < 0 || sp.End < sp.Start || sp.End > len(out) {
			t.Fatalf("span %+v outside the new text of %d bytes", sp, len(out))
		}
		// text before the edit keeps its place (at its very end, an insertion joins the span)
		if end < off && out[sp.Start:sp.End] != s[start:end] {
			t.Fatalf("untouched span changed: %q → %q", s[start:end], out[sp.Start:sp.End])
		}
	})
}

func TestSetFinalOffsetsPointsAtEachEditsResult(t *testing.T) {
	text := `Er sagte ,,ja'' und ging..`
	a := &article.Article{DE: article.Text{Title: text}}
	for _, e := range []article.Edit{
		{Field: "de.title", Offset: 24, Before: "..", After: "."},
		{Field: "de.title", Offset: 9, Before: ",,", After: "„"},
		{Field: "de.title", Offset: 14, Before: "''", After: "“"},
		{Field: "de.lead", Offset: 0, Before: "x", After: "y"}, // another field does not move them
	} {
		if e.Field == "de.title" {
			a.DE.Title = apply(a.DE.Title, e)
		}
		a.Edits = append(a.Edits, e)
	}
	a.SetFinalOffsets()
	for _, e := range a.Edits[:3] {
		if got := a.DE.Title[e.FinalOffset:]; !strings.HasPrefix(got, e.After) {
			t.Errorf("edit %q→%q: final text at %d is %q", e.Before, e.After, e.FinalOffset, got)
		}
	}
	// "Er sagte „ja“ und ging." : the period moved by the two later, longer quotation marks
	if a.DE.Title != "Er sagte „ja“ und ging." || a.Edits[0].FinalOffset != 26 {
		t.Errorf("title %q, the period's final offset %d, want 26", a.DE.Title, a.Edits[0].FinalOffset)
	}
}
