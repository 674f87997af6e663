package mt

import (
	"strconv"
	"strings"
)

// Batch is a half-open range [Start, End) of segments sent in one request.
type Batch struct{ Start, End int }

// SegmentBytes estimates what a segment adds to a request payload: its
// bytes as a JSON string plus a separator.
func SegmentBytes(s string) int {
	return len(strconv.Quote(s)) + 1
}

// Batches cuts segs into consecutive batches within l. A single segment
// larger than MaxBytes gets a batch of its own; the engine decides whether
// it can take it.
func Batches(segs []string, l Limits) []Batch {
	var out []Batch
	start, bytes := 0, 0
	for i, s := range segs {
		n := SegmentBytes(s)
		full := l.MaxSegments > 0 && i-start >= l.MaxSegments
		tooBig := l.MaxBytes > 0 && i > start && bytes+n > l.MaxBytes
		if full || tooBig {
			out = append(out, Batch{start, i})
			start, bytes = i, 0
		}
		bytes += n
	}
	if start < len(segs) {
		out = append(out, Batch{start, len(segs)})
	}
	return out
}

// NonBlank separates the segments an engine must translate from blank ones,
// which translate to themselves: out has len(segs) entries with the blanks
// already filled, and texts[k] belongs at out[idx[k]].
func NonBlank(segs []string) (out []string, idx []int, texts []string) {
	out = make([]string, len(segs))
	for i, s := range segs {
		if strings.TrimSpace(s) == "" {
			out[i] = s
			continue
		}
		idx = append(idx, i)
		texts = append(texts, s)
	}
	return out, idx, texts
}
