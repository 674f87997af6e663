package spm

import (
	"strings"
	"unicode/utf8"
)

// span is one segment of the normalized text and the piece id chosen for it.
type span struct {
	begin, end int
	id         int
}

type bestPath struct {
	score    float32
	startsAt int32
	id       int32
}

// oneCharLen is the reference's UTF-8 lead-byte length table; continuation
// bytes count as one.
func oneCharLen(b byte) int {
	switch {
	case b < 0xC0:
		return 1
	case b < 0xE0:
		return 2
	case b < 0xF0:
		return 3
	default:
		return 4
	}
}

// segment finds the best-scoring segmentation of normalized text. Its
// arithmetic follows the reference's optimized unigram encoder exactly,
// float32 and float64 alike, so that near-ties resolve the same way.
func (m *Model) segment(s string) []span {
	size := len(s)
	if size == 0 {
		return nil
	}
	bp := m.lattices.Get().(*[]bestPath)
	defer m.lattices.Put(bp)
	if cap(*bp) < size+1 {
		*bp = make([]bestPath, size+1)
	}
	best := (*bp)[:size+1]
	for i := range best {
		best[i] = bestPath{startsAt: -1}
	}
	best[0].startsAt = 0
	unkScore := float32(m.minScore - unkPenalty)
	maxScore := m.maxScore
	for start := 0; start < size; {
		till := best[start].score
		mblen := min(oneCharLen(s[start]), size-start)
		hasSingle := false
		node := int32(0)
		for k := start; k < size; k++ {
			if node = m.vocab.child(node, s[k]); node < 0 {
				break
			}
			id := int(m.vocab.units[node].value)
			if id < 0 {
				continue
			}
			typ := m.types[id]
			if typ == typeUnused {
				continue
			}
			length := k + 1 - start
			var score float64
			if typ == typeUserDefined {
				score = float64(float32(float32(length)*maxScore)) - 0.1
			} else {
				score = float64(m.scores[id])
			}
			cand := score + float64(till)
			t := &best[k+1]
			if t.startsAt == -1 || cand > float64(t.score) {
				t.score = float32(cand)
				t.startsAt = int32(start)
				t.id = int32(id)
			}
			if length == mblen {
				hasSingle = true
			}
		}
		if !hasSingle {
			t := &best[start+mblen]
			cand := float32(unkScore + till)
			if t.startsAt == -1 || cand > t.score {
				t.score = cand
				t.startsAt = int32(start)
				t.id = int32(m.unkID)
			}
		}
		start += mblen
	}
	n := 0
	for end := size; end > 0; end = int(best[end].startsAt) {
		if s := int(best[end].startsAt); s < 0 || s >= end {
			break
		}
		n++
	}
	out := make([]span, n)
	for end := size; end > 0 && n > 0; end = int(best[end].startsAt) {
		n--
		out[n] = span{begin: int(best[end].startsAt), end: end, id: int(best[end].id)}
	}
	return out
}

// spans normalizes text and segments it. Without byte fallback, runs of
// unknown characters merge into one unknown piece, as the reference does.
func (m *Model) spans(text string) (string, []span) {
	s := m.norm.normalize(text)
	spans := m.segment(s)
	if m.byteFallback {
		return s, spans
	}
	out := spans[:0]
	for _, sp := range spans {
		if n := len(out); n > 0 && sp.id == m.unkID && out[n-1].id == m.unkID {
			out[n-1].end = sp.end
			continue
		}
		out = append(out, sp)
	}
	return s, out
}

// Encode normalizes text and splits it into pieces, exactly as spm_encode
// does. Characters the vocabulary lacks come back as byte pieces ("<0xE2>")
// when the model has byte fallback; otherwise each run of them is one piece
// spelled as itself, which EncodeIDs reports with the unknown id.
func (m *Model) Encode(text string) []string {
	s, spans := m.spans(text)
	out := make([]string, 0, len(spans))
	for _, sp := range spans {
		if sp.id == m.unkID && m.byteFallback {
			for i := sp.begin; i < sp.end; i++ {
				out = append(out, m.texts[m.bytePieces[s[i]]])
			}
			continue
		}
		out = append(out, s[sp.begin:sp.end])
	}
	return out
}

// EncodeIDs is Encode returning piece ids.
func (m *Model) EncodeIDs(text string) []int {
	s, spans := m.spans(text)
	out := make([]int, 0, len(spans))
	for _, sp := range spans {
		if sp.id == m.unkID && m.byteFallback {
			for i := sp.begin; i < sp.end; i++ {
				out = append(out, m.bytePieces[s[i]])
			}
			continue
		}
		out = append(out, sp.id)
	}
	return out
}

// Normalize returns text as the model sees it before segmentation, with
// whitespace escaped as U+2581 when the model escapes it.
func (m *Model) Normalize(text string) string { return m.norm.normalize(text) }

// Decode joins pieces back into text as spm_decode does: U+2581 becomes a
// space, leading spaces go (the dummy prefix), runs of byte pieces are
// reassembled into UTF-8 (malformed bytes become U+FFFD), control pieces
// vanish, "<unk>" becomes " ⁇ " and any other piece outside the vocabulary
// is copied as it is.
func (m *Model) Decode(pieces []string) string {
	ids := make([]int, len(pieces))
	for i, p := range pieces {
		ids[i] = m.PieceToID(p)
	}
	return m.decode(pieces, ids)
}

// DecodeIDs is Decode for piece ids; ids out of range decode as unknown.
func (m *Model) DecodeIDs(ids []int) string {
	pieces := make([]string, len(ids))
	valid := make([]int, len(ids))
	for i, id := range ids {
		if id < 0 || id >= len(m.texts) {
			id = m.unkID
		}
		valid[i] = id
		pieces[i] = m.texts[id]
	}
	return m.decode(pieces, valid)
}

func (m *Model) decode(pieces []string, ids []int) string {
	var (
		b       strings.Builder
		byteRun []byte
	)
	// Only a model that adds or collapses leading whitespace has a leading
	// space to strip; the reference strips it even for suffix-whitespace models.
	stripBOS := m.norm.addDummyPrefix || m.norm.removeExtraWhitespaces
	flush := func() {
		for run := byteRun; len(run) > 0; {
			r, size := utf8.DecodeRune(run)
			if r == utf8.RuneError && size == 1 {
				b.WriteString("\uFFFD")
			} else {
				b.Write(run[:size])
			}
			run = run[size:]
		}
		byteRun = byteRun[:0]
	}
	for i, p := range pieces {
		typ, text := m.types[ids[i]], m.texts[ids[i]]
		if typ == typeByte {
			bt, _ := pieceToByte(text)
			byteRun = append(byteRun, bt)
			continue
		}
		flush()
		switch typ {
		case typeControl:
			continue
		case typeUnknown:
			if p == text {
				b.WriteString(m.unkSurface)
			} else {
				b.WriteString(p)
			}
			continue
		}
		if b.Len() == 0 && stripBOS {
			p = strings.TrimPrefix(p, spaceSymbol)
		}
		b.WriteString(strings.ReplaceAll(p, spaceSymbol, " "))
	}
	flush()
	return b.String()
}
