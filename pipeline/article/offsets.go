package article

import "unicode/utf8"

// Span is a byte range [Start, End) of a field's text.
type Span struct{ Start, End int }

// MapSpan follows a span of a field's text through one edit of that field
// (applied at e.Offset, replacing e.Before with e.After) and returns where
// the span lies in the text after the edit. Text outside the edit keeps its
// place (shifted); an edit is first narrowed to the bytes it really changes,
// so a whole-field edit (unicode.nfc, space.collapse) moves only what it
// changed. A span edge inside the changed bytes widens the span over them;
// text inserted at a span's end belongs to the span, text inserted at its
// start too. The result is always a valid, ordered range of the new text.
func MapSpan(s Span, e Edit) Span {
	o, b, a := narrow(e)
	shift := len(a) - len(b)
	mapEdge := func(p int, end bool) int {
		switch {
		case p < o || (p == o && !end && len(b) > 0):
			return p
		case p == o && len(b) == 0: // a pure insertion at the edge
			if end {
				return p + len(a)
			}
			return p
		case p >= o+len(b):
			return p + shift
		case end:
			return o + len(a)
		default:
			return o
		}
	}
	out := Span{mapEdge(s.Start, false), mapEdge(s.End, true)}
	if out.End < out.Start {
		out.End = out.Start
	}
	return out
}

// narrow trims the bytes Before and After share at both ends (on rune
// boundaries) and returns the offset and the parts that differ.
func narrow(e Edit) (int, string, string) {
	b, a := e.Before, e.After
	p := 0
	for p < len(b) && p < len(a) && b[p] == a[p] {
		p++
	}
	for p > 0 && p < len(b) && !utf8.RuneStart(b[p]) {
		p--
	}
	for p > 0 && p < len(a) && !utf8.RuneStart(a[p]) {
		p--
	}
	q := 0
	for q < len(b)-p && q < len(a)-p && b[len(b)-1-q] == a[len(a)-1-q] {
		q++
	}
	for q > 0 && !utf8.RuneStart(b[len(b)-q]) {
		q--
	}
	for q > 0 && !utf8.RuneStart(a[len(a)-q]) {
		q--
	}
	return e.Offset + p, b[p : len(b)-q], a[p : len(a)-q]
}

// SetFinalOffsets sets every edit's FinalOffset: where its After stands in
// the field's text as the record now carries it, following it through the
// later edits of the same field. Calling it again after more edits were
// appended brings the offsets up to date.
func (a *Article) SetFinalOffsets() {
	// next[i] is the index of the next edit of the same field (-1: none).
	next := make([]int, len(a.Edits))
	last := map[string]int{}
	for i := len(a.Edits) - 1; i >= 0; i-- {
		next[i] = -1
		if j, ok := last[a.Edits[i].Field]; ok {
			next[i] = j
		}
		last[a.Edits[i].Field] = i
	}
	for i := range a.Edits {
		e := &a.Edits[i]
		s := Span{e.Offset, e.Offset + len(e.After)}
		for j := next[i]; j >= 0; j = next[j] {
			s = MapSpan(s, a.Edits[j])
		}
		e.FinalOffset = s.Start
	}
}
