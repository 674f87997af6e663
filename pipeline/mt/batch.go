package mt

import "strconv"

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
