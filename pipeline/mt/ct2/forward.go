package ct2

import "math"

// embed writes the scaled embedding of id plus its position encoding into out.
func (e *embedding) embed(id, pos int, out []float32) {
	d := e.table.cols
	row := e.table.row(id, out[:d])
	if e.scale != 0 {
		for k := range out[:d] {
			out[k] = row[k] * e.scale
		}
	} else if &row[0] != &out[0] {
		copy(out, row)
	}
	switch {
	case e.learned != nil:
		p := min(pos, e.learned.rows-1)
		if e.learned.i8 != nil {
			for k := 0; k < d; k++ {
				out[k] += float32(e.learned.i8[p*d+k]) * e.learned.inv[p]
			}
		} else {
			for k, v := range e.learned.f32[p*d : (p+1)*d] {
				out[k] += v
			}
		}
	case e.sinTS != nil:
		half := len(e.sinTS)
		t := float32(pos + 1)
		for j, ts := range e.sinTS {
			a := float64(t * ts)
			out[j] += float32(math.Sin(a))
			out[half+j] += float32(math.Cos(a))
		}
	}
}

// attend computes, for each head, softmax(scale·q·kⱼ)·vⱼ over n rows of kv,
// where row j holds its key at kOff and its value at vOff, rows stride apart.
func attend(q, kv []float32, stride, kOff, vOff, n, heads int, scale float32, scores, out []float32) {
	d := len(out)
	dh := d / heads
	scores = scores[:n]
	for h := 0; h < heads; h++ {
		qh := q[h*dh : (h+1)*dh]
		for j := 0; j < n; j++ {
			base := j*stride + kOff + h*dh
			scores[j] = dotPlain(qh, kv[base:base+dh]) * scale
		}
		softmaxInPlace(scores)
		oh := out[h*dh : (h+1)*dh]
		clear(oh)
		for j, p := range scores {
			base := j*stride + vOff + h*dh
			v := kv[base : base+dh]
			for c := range oh {
				oh[c] += p * v[c]
			}
		}
	}
}

// residual adds a sub-layer's output to x, normalizing afterwards in
// post-norm models; without a layer norm the output replaces x.
func residual(n *norm, pre bool, x, o []float32, rows int) {
	if n == nil {
		copy(x, o)
		return
	}
	for i := range x {
		x[i] += o[i]
	}
	if !pre {
		n.apply(x, rows, x)
	}
}

// normIn returns the sub-layer input: the normalized x in pre-norm models.
func normIn(n *norm, pre bool, x, h []float32, rows int) []float32 {
	if n != nil && pre {
		n.apply(x, rows, h)
		return h
	}
	return x
}

func (m *Model) feedForward(f *feedForward, pre bool, x []float32, rows int, buf *buffers) {
	d := m.dModel
	h := normIn(f.norm, pre, x, buf.h[:rows*d], rows)
	inner := grow(&buf.inner, rows*f.in.out())
	f.in.apply(h, rows, inner, m.workers)
	f.act.apply(inner)
	if f.noact != nil {
		lin := grow(&buf.gate, rows*f.noact.out())
		f.noact.apply(h, rows, lin, m.workers)
		for i := range inner {
			inner[i] *= lin[i]
		}
	}
	o := buf.o[:rows*d]
	f.out.apply(inner, rows, o, m.workers)
	residual(f.norm, pre, x, o, rows)
}

type buffers struct {
	x, h, o, ctx, qkv, inner, gate, scores, logits []float32
}

func grow(b *[]float32, n int) []float32 {
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	return (*b)[:n]
}

func (b *buffers) ensure(rows, d int) {
	grow(&b.x, rows*d)
	grow(&b.h, rows*d)
	grow(&b.o, rows*d)
	grow(&b.ctx, rows*d)
	grow(&b.qkv, rows*3*d)
}

// encode runs the encoder over the sentences packed one after another
// (offs[b]..offs[b+1] are sentence b's rows) and returns the memory [rows][d].
func (m *Model) encode(src [][]int, offs []int, buf *buffers) []float32 {
	d := m.dModel
	rows := offs[len(offs)-1]
	buf.ensure(rows, d)
	x := make([]float32, rows*d)
	for b, ids := range src {
		for t, id := range ids {
			m.encEmb.embed(id, t, x[(offs[b]+t)*d:(offs[b]+t+1)*d])
		}
	}
	if m.encEmb.lnEmb != nil {
		m.encEmb.lnEmb.apply(x, rows, x)
	}
	pre := m.preNormEnc
	for li := range m.enc {
		l := &m.enc[li]
		a := &l.att
		h := normIn(a.norm, pre, x, buf.h[:rows*d], rows)
		qkv := buf.qkv[:rows*3*d]
		a.qkv.apply(h, rows, qkv, m.workers)
		ctx := buf.ctx[:rows*d]
		for b := range src {
			n := offs[b+1] - offs[b]
			kv := qkv[offs[b]*3*d : offs[b+1]*3*d]
			scores := grow(&buf.scores, n)
			for t := 0; t < n; t++ {
				attend(kv[t*3*d:t*3*d+d], kv, 3*d, d, 2*d, n, a.heads, a.scale, scores, ctx[(offs[b]+t)*d:(offs[b]+t+1)*d])
			}
		}
		o := buf.o[:rows*d]
		a.out.apply(ctx, rows, o, m.workers)
		residual(a.norm, pre, x, o, rows)
		m.feedForward(&l.ffn, pre, x, rows, buf)
	}
	if m.encNorm != nil {
		m.encNorm.apply(x, rows, x)
	}
	return x
}

// memory is the encoder output projected to keys and values once per
// decoder layer, shared by all hypotheses of a sentence.
type memory struct {
	offs []int
	kv   [][]float32 // per decoder layer: [rows][2d]
}

func (m *Model) project(mem []float32, offs []int) *memory {
	rows := offs[len(offs)-1]
	out := &memory{offs: offs, kv: make([][]float32, len(m.dec))}
	for li := range m.dec {
		if c := m.dec[li].cross; c != nil {
			out.kv[li] = make([]float32, rows*c.kv.out())
			c.kv.apply(mem, rows, out.kv[li], m.workers)
		}
	}
	return out
}

// hyp is one partial translation with its self-attention cache.
type hyp struct {
	batch   int
	capHint int         // expected number of steps, to size the cache once
	cache   [][]float32 // per decoder layer: [steps][2d] keys then values
}

func (h *hyp) clone() *hyp {
	c := &hyp{batch: h.batch, capHint: h.capHint, cache: make([][]float32, len(h.cache))}
	for i, s := range h.cache {
		c.cache[i] = append(make([]float32, 0, cap(s)), s...)
	}
	return c
}

// step runs the decoder for one position of every hypothesis and writes
// the output logits [len(hyps)][vocab] into logits.
func (m *Model) step(mem *memory, hyps []*hyp, tokens []int, pos int, buf *buffers, logits []float32) {
	d := m.dModel
	rows := len(hyps)
	buf.ensure(rows, d)
	x := buf.x[:rows*d]
	for i, id := range tokens {
		m.decEmb.embed(id, pos, x[i*d:(i+1)*d])
	}
	if m.decEmb.lnEmb != nil {
		m.decEmb.lnEmb.apply(x, rows, x)
	}
	pre := m.preNormDec
	for li := range m.dec {
		l := &m.dec[li]
		a := &l.self
		h := normIn(a.norm, pre, x, buf.h[:rows*d], rows)
		qkv := buf.qkv[:rows*3*d]
		a.qkv.apply(h, rows, qkv, m.workers)
		ctx := buf.ctx[:rows*d]
		for i, hy := range hyps {
			if hy.cache[li] == nil {
				hy.cache[li] = make([]float32, 0, max(hy.capHint, 1)*2*d)
			}
			hy.cache[li] = append(hy.cache[li], qkv[i*3*d+d:(i+1)*3*d]...)
			n := len(hy.cache[li]) / (2 * d)
			scores := grow(&buf.scores, n)
			attend(qkv[i*3*d:i*3*d+d], hy.cache[li], 2*d, 0, d, n, a.heads, a.scale, scores, ctx[i*d:(i+1)*d])
		}
		o := buf.o[:rows*d]
		a.out.apply(ctx, rows, o, m.workers)
		residual(a.norm, pre, x, o, rows)

		if c := l.cross; c != nil {
			h := normIn(c.norm, pre, x, buf.h[:rows*d], rows)
			q := buf.qkv[:rows*d]
			c.q.apply(h, rows, q, m.workers)
			for i, hy := range hyps {
				off, end := mem.offs[hy.batch], mem.offs[hy.batch+1]
				n := end - off
				scores := grow(&buf.scores, n)
				attend(q[i*d:(i+1)*d], mem.kv[li][off*2*d:end*2*d], 2*d, 0, d, n, c.heads, c.scale, scores, ctx[i*d:(i+1)*d])
			}
			c.out.apply(ctx, rows, o, m.workers)
			residual(c.norm, pre, x, o, rows)
		}
		m.feedForward(&l.ffn, pre, x, rows, buf)
	}
	if m.decNorm != nil {
		m.decNorm.apply(x, rows, x)
	}
	m.proj.apply(x, rows, logits, m.workers)
}
