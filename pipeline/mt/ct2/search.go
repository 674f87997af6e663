package ct2

import (
	"context"
	"fmt"
	"math"
	"sort"
)

// Options controls decoding. The zero value decodes greedily without scores.
type Options struct {
	BeamSize int // 1 (or 0) is greedy search; at most 16
	// LengthPenalty divides a finished beam hypothesis' log-probability by
	// length^LengthPenalty; 0 ranks by raw log-probability.
	LengthPenalty float64
	// MaxLength bounds the generated tokens per sentence (the end token
	// included); 0 means min(2·source length + 10, 512).
	MaxLength int
	// MinLength forbids the end token before this many generated tokens.
	MinLength int
	// ReturnScores fills Translation.TokenScores with log-probabilities.
	ReturnScores bool
	// EndToken ends a hypothesis in addition to the model's end token.
	EndToken string
	// SuppressSequences are token sequences that must never be generated.
	SuppressSequences [][]string
	// TargetPrefix forces the first target tokens of each sentence (nil entries allowed).
	TargetPrefix [][]string
}

// Translation is the best hypothesis for one source sentence.
type Translation struct {
	Tokens []string
	IDs    []int
	// Score is the log-probability of the tokens and the end token, divided
	// by length^LengthPenalty in beam search.
	Score float32
	// TokenScores are per-token log-probabilities, the end token's last
	// (when it was generated); filled with Options.ReturnScores or beam search.
	TokenScores []float32
}

// MaxBeamSize bounds Options.BeamSize.
const MaxBeamSize = 16

// hardMaxLength bounds any decoding, whatever the options say.
const hardMaxLength = 1024

type decodeSpec struct {
	opts     Options
	maxLen   []int
	prefix   [][]int
	end      map[int]bool
	suppress [][]int
	start    int
	scores   bool
	forceAll bool // scoring: the prefix is the whole target, end token included
}

// TranslateIDs translates sentences given as source ids and returns target ids.
func (m *Model) TranslateIDs(ctx context.Context, src [][]int, opts Options) ([]Translation, error) {
	spec, err := m.decodeSpec(src, opts)
	if err != nil {
		return nil, err
	}
	return m.run(ctx, src, spec)
}

// TranslateBatch translates pre-tokenized sentences.
func (m *Model) TranslateBatch(ctx context.Context, source [][]string, opts Options) ([]Translation, error) {
	if m.Source == nil || m.Target == nil {
		return nil, fmt.Errorf("ct2: model has no vocabularies")
	}
	src := make([][]int, len(source))
	for i, toks := range source {
		src[i] = m.sourceIDs(toks)
	}
	return m.TranslateIDs(ctx, src, opts)
}

// ScoreBatch returns the log-probability of each target token and of the
// end token after it, given each source sentence (teacher forcing).
func (m *Model) ScoreBatch(ctx context.Context, source, target [][]string) ([][]float32, error) {
	if len(source) != len(target) {
		return nil, fmt.Errorf("ct2: score: %d sources but %d targets", len(source), len(target))
	}
	if m.Source == nil || m.Target == nil {
		return nil, fmt.Errorf("ct2: model has no vocabularies")
	}
	src := make([][]int, len(source))
	spec := decodeSpec{scores: true, forceAll: true, end: map[int]bool{}}
	if err := m.startToken(&spec); err != nil {
		return nil, err
	}
	eos := m.Target.ID(m.Config.EosToken)
	for i := range source {
		src[i] = m.sourceIDs(source[i])
		p := make([]int, 0, len(target[i])+1)
		for _, t := range target[i] {
			p = append(p, m.Target.ID(t))
		}
		spec.prefix = append(spec.prefix, append(p, eos))
		spec.maxLen = append(spec.maxLen, len(p)+1)
	}
	res, err := m.run(ctx, src, &spec)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(res))
	for i, r := range res {
		out[i] = r.TokenScores
	}
	return out, nil
}

func (m *Model) sourceIDs(toks []string) []int {
	ids := make([]int, 0, len(toks)+2)
	if m.Config.AddSourceBos {
		ids = append(ids, m.Source.ID(m.Config.BosToken))
	}
	for _, t := range toks {
		ids = append(ids, m.Source.ID(t))
	}
	if m.Config.AddSourceEos {
		ids = append(ids, m.Source.ID(m.Config.EosToken))
	}
	return ids
}

func (m *Model) startToken(s *decodeSpec) error {
	start := m.Config.BosToken
	if m.Config.DecoderStartToken != nil {
		start = *m.Config.DecoderStartToken
	}
	if m.Target == nil {
		s.start = 1
		if s.start >= m.decEmb.table.rows {
			return fmt.Errorf("ct2: decoder start id %d outside target vocabulary of %d", s.start, m.decEmb.table.rows)
		}
		return nil
	}
	id, ok := m.Target.Lookup(start)
	if !ok {
		return fmt.Errorf("ct2: decoder start token %q is not in the target vocabulary", start)
	}
	s.start = id
	return nil
}

func (m *Model) decodeSpec(src [][]int, opts Options) (*decodeSpec, error) {
	if opts.BeamSize < 0 || opts.BeamSize > MaxBeamSize {
		return nil, fmt.Errorf("ct2: beam size %d, expected 1 to %d", opts.BeamSize, MaxBeamSize)
	}
	if opts.BeamSize == 0 {
		opts.BeamSize = 1
	}
	if opts.TargetPrefix != nil && len(opts.TargetPrefix) != len(src) {
		return nil, fmt.Errorf("ct2: %d target prefixes for %d sentences", len(opts.TargetPrefix), len(src))
	}
	s := &decodeSpec{opts: opts, scores: opts.ReturnScores || opts.BeamSize > 1, end: map[int]bool{}}
	if err := m.startToken(s); err != nil {
		return nil, err
	}
	vocab := m.proj.out()
	tid := func(tok string) int {
		if m.Target == nil {
			return -1
		}
		return m.Target.ID(tok)
	}
	if m.Target != nil {
		s.end[tid(m.Config.EosToken)] = true
	} else {
		s.end[2] = true
	}
	if opts.EndToken != "" {
		s.end[tid(opts.EndToken)] = true
	}
	for _, seq := range opts.SuppressSequences {
		if len(seq) == 0 {
			continue
		}
		ids := make([]int, len(seq))
		for i, t := range seq {
			ids[i] = tid(t)
		}
		s.suppress = append(s.suppress, ids)
	}
	for i, ids := range src {
		for _, id := range ids {
			if id < 0 || id >= m.encEmb.table.rows {
				return nil, fmt.Errorf("ct2: sentence %d: source id %d outside vocabulary of %d", i, id, m.encEmb.table.rows)
			}
		}
		n := opts.MaxLength
		if n <= 0 {
			n = min(2*len(ids)+10, 512)
		}
		var p []int
		if opts.TargetPrefix != nil {
			for _, t := range opts.TargetPrefix[i] {
				p = append(p, tid(t))
			}
		}
		n = min(max(n, len(p)+1), hardMaxLength)
		s.maxLen = append(s.maxLen, n)
		s.prefix = append(s.prefix, p)
	}
	for _, p := range s.prefix {
		for _, id := range p {
			if id < 0 || id >= vocab {
				return nil, fmt.Errorf("ct2: target prefix id %d outside vocabulary of %d", id, vocab)
			}
		}
	}
	return s, nil
}

func (m *Model) run(ctx context.Context, src [][]int, spec *decodeSpec) ([]Translation, error) {
	offs := make([]int, len(src)+1)
	for i, s := range src {
		offs[i+1] = offs[i] + len(s)
	}
	buf := m.getBuffers()
	defer m.putBuffers(buf)
	enc := m.encode(src, offs, buf)
	mem := m.project(enc, offs, buf)
	if spec.opts.BeamSize > 1 {
		return m.beamSearch(ctx, mem, len(src), spec, buf)
	}
	return m.greedy(ctx, mem, len(src), spec, buf)
}

// mask sets the logits of forbidden tokens to -Inf for a hypothesis that
// has produced out so far.
func (s *decodeSpec) mask(row []float32, out []int) {
	inf := float32(math.Inf(-1))
	if len(out) < s.opts.MinLength {
		for id := range s.end {
			if id >= 0 && id < len(row) {
				row[id] = inf
			}
		}
	}
	for _, seq := range s.suppress {
		k := len(seq) - 1
		if k > len(out) {
			continue
		}
		match := true
		for j := 0; j < k; j++ {
			if out[len(out)-k+j] != seq[j] {
				match = false
				break
			}
		}
		if match && seq[k] >= 0 && seq[k] < len(row) {
			row[seq[k]] = inf
		}
	}
}

func (m *Model) newHyp(batch, steps int) *hyp {
	return &hyp{batch: batch, capHint: steps, cache: make([][]float32, len(m.dec))}
}

func (m *Model) greedy(ctx context.Context, mem *memory, n int, spec *decodeSpec, buf *buffers) ([]Translation, error) {
	res := make([]Translation, n)
	hyps := make([]*hyp, n)
	active := make([]int, n)
	per := func(i int) int { return len(m.dec) * max(spec.maxLen[i], 1) * 2 * m.dModel }
	size := 0
	for i := range hyps {
		size += per(i)
	}
	slab := grow(&buf.cache, size)
	for i := range hyps {
		hyps[i] = m.newHyp(i, spec.maxLen[i])
		hyps[i].slab, slab = slab[:per(i)], slab[per(i):]
		active[i] = i
	}
	vocab := m.proj.out()
	var stepHyps []*hyp
	var tokens []int
	for pos := 0; len(active) > 0; pos++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		stepHyps, tokens = stepHyps[:0], tokens[:0]
		for _, i := range active {
			stepHyps = append(stepHyps, hyps[i])
			if pos == 0 {
				tokens = append(tokens, spec.start)
			} else {
				tokens = append(tokens, res[i].IDs[len(res[i].IDs)-1])
			}
		}
		logits := grow(&buf.logits, len(active)*vocab)
		m.step(mem, stepHyps, tokens, pos, buf, logits)
		next := active[:0]
		for r, i := range active {
			row := logits[r*vocab : (r+1)*vocab]
			forced := pos < len(spec.prefix[i])
			var tok int
			if forced {
				tok = spec.prefix[i][pos]
			} else {
				spec.mask(row, res[i].IDs)
			}
			if spec.scores {
				logSoftmaxInPlace(row)
			}
			if !forced {
				tok = argmax(row)
			}
			if spec.scores {
				res[i].TokenScores = append(res[i].TokenScores, row[tok])
				res[i].Score += row[tok]
			}
			ended := spec.end[tok] && (!forced || spec.forceAll && pos == len(spec.prefix[i])-1)
			if !ended {
				res[i].IDs = append(res[i].IDs, tok)
			}
			if ended || pos+1 >= spec.maxLen[i] {
				hyps[i] = nil
				continue
			}
			next = append(next, i)
		}
		active = next
	}
	m.fillTokens(res)
	return res, nil
}

func (m *Model) fillTokens(res []Translation) {
	if m.Target == nil {
		return
	}
	for i := range res {
		res[i].Tokens = make([]string, len(res[i].IDs))
		for j, id := range res[i].IDs {
			res[i].Tokens[j] = m.Target.Token(id)
		}
	}
}

type beamHyp struct {
	h      *hyp
	ids    []int
	scores []float32
	cum    float32
}

type candidate struct {
	parent int
	tok    int
	cum    float32
	lp     float32
}

// topK returns the k best (index, value) pairs of row, best first.
func topK(row []float32, k int, idx []int) []int {
	idx = idx[:0]
	for i, v := range row {
		if len(idx) < k {
			idx = append(idx, i)
			for j := len(idx) - 1; j > 0 && row[idx[j]] > row[idx[j-1]]; j-- {
				idx[j], idx[j-1] = idx[j-1], idx[j]
			}
			continue
		}
		if v <= row[idx[k-1]] {
			continue
		}
		idx[k-1] = i
		for j := k - 1; j > 0 && row[idx[j]] > row[idx[j-1]]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	return idx
}

func (m *Model) beamSearch(ctx context.Context, mem *memory, n int, spec *decodeSpec, buf *buffers) ([]Translation, error) {
	k := spec.opts.BeamSize
	vocab := m.proj.out()
	beams := make([][]beamHyp, n)
	finished := make([][]Translation, n)
	done := make([]bool, n)
	for i := range beams {
		beams[i] = []beamHyp{{h: m.newHyp(i, spec.maxLen[i])}}
	}
	norm := func(cum float32, length int) float32 {
		if spec.opts.LengthPenalty == 0 || length == 0 {
			return cum
		}
		return cum / float32(math.Pow(float64(length), spec.opts.LengthPenalty))
	}
	finish := func(i int, b beamHyp, tok int, lp float32, withEnd bool) {
		t := Translation{IDs: append([]int(nil), b.ids...), TokenScores: append([]float32(nil), b.scores...)}
		length := len(b.ids)
		cum := b.cum
		if withEnd {
			t.TokenScores = append(t.TokenScores, lp)
			cum += lp
			length++
		}
		t.Score = norm(cum, length)
		finished[i] = append(finished[i], t)
	}
	var idx []int
	var stepHyps []*hyp
	var tokens []int
	for pos := 0; ; pos++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		stepHyps, tokens = stepHyps[:0], tokens[:0]
		for i, bs := range beams {
			if done[i] {
				continue
			}
			for _, b := range bs {
				stepHyps = append(stepHyps, b.h)
				if pos == 0 {
					tokens = append(tokens, spec.start)
				} else {
					tokens = append(tokens, b.ids[len(b.ids)-1])
				}
			}
		}
		if len(stepHyps) == 0 {
			break
		}
		logits := grow(&buf.logits, len(stepHyps)*vocab)
		m.step(mem, stepHyps, tokens, pos, buf, logits)
		r := 0
		for i, bs := range beams {
			if done[i] {
				continue
			}
			forced := pos < len(spec.prefix[i])
			var cands []candidate
			for bi, b := range bs {
				row := logits[r*vocab : (r+1)*vocab]
				r++
				if !forced {
					spec.mask(row, b.ids)
				}
				logSoftmaxInPlace(row)
				if forced {
					tok := spec.prefix[i][pos]
					cands = append(cands, candidate{parent: bi, tok: tok, cum: b.cum + row[tok], lp: row[tok]})
					continue
				}
				for _, tok := range topK(row, k+1, idx) {
					if math.IsInf(float64(row[tok]), -1) {
						continue
					}
					cands = append(cands, candidate{parent: bi, tok: tok, cum: b.cum + row[tok], lp: row[tok]})
				}
			}
			sort.SliceStable(cands, func(a, b int) bool { return cands[a].cum > cands[b].cum })
			var next []beamHyp
			width := k
			if forced {
				width = 1
			}
			used := make(map[int]bool)
			for ci, c := range cands {
				parent := bs[c.parent]
				if !forced && spec.end[c.tok] {
					finish(i, parent, c.tok, c.lp, true)
					if ci == 0 {
						done[i] = true
						break
					}
					continue
				}
				if len(next) == width {
					continue
				}
				h := parent.h
				if used[c.parent] {
					h = h.clone()
				}
				used[c.parent] = true
				next = append(next, beamHyp{
					h:      h,
					ids:    append(append([]int(nil), parent.ids...), c.tok),
					scores: append(append([]float32(nil), parent.scores...), c.lp),
					cum:    c.cum,
				})
			}
			beams[i] = next
			if !done[i] && len(next) > 0 && len(next[0].ids) >= spec.maxLen[i] {
				for _, b := range next {
					finish(i, b, -1, 0, false)
				}
				done[i] = true
			}
			if len(next) == 0 {
				done[i] = true
			}
			if done[i] {
				beams[i] = nil
			}
		}
	}
	res := make([]Translation, n)
	for i, fs := range finished {
		best := -1
		for j, t := range fs {
			if best < 0 || t.Score > fs[best].Score {
				best = j
			}
		}
		if best >= 0 {
			res[i] = fs[best]
		}
		if !spec.opts.ReturnScores {
			res[i].TokenScores = nil
		}
	}
	m.fillTokens(res)
	return res, nil
}
