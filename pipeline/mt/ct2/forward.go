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
		var buf [512]float32
		var tmp []float32
		if d <= len(buf) {
			tmp = buf[:d]
		} else {
			tmp = make([]float32, d)
		}
		for k, v := range e.learned.row(p, tmp) {
			out[k] += v
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
			scores[j] = dot(qh, kv[base:base+dh]) * scale
		}
		softmaxInPlace(scores)
		weighted(scores, kv, stride, vOff+h*dh, out[h*dh:(h+1)*dh])
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

// buffers is the scratch memory of one translation call, kept in the
// Model's pool and reused by later calls.
type buffers struct {
	x, h, o, ctx, qkv, inner, gate, logits []float32
	scores                                 [][]float32 // attention scores, one per goroutine
	enc                                    []float32   // encoder activations, then its output
	kv                                     []float32   // projected encoder memory, all decoder layers
	cache                                  []float32   // greedy search self-attention caches
}

// scratch returns goroutine part's attention scores buffer.
func (b *buffers) scratch(part int) *[]float32 { return &b.scores[part] }

func (m *Model) getBuffers() *buffers {
	if b, ok := m.pool.Get().(*buffers); ok {
		return b
	}
	return new(buffers)
}

func (m *Model) putBuffers(b *buffers) { m.pool.Put(b) }

func grow(b *[]float32, n int) []float32 {
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	return (*b)[:n]
}

func (b *buffers) ensure(rows, d, workers int) {
	for len(b.scores) < workers {
		b.scores = append(b.scores, nil)
	}
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
	buf.ensure(rows, d, m.workers)
	x := grow(&buf.enc, rows*d)
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
		parallel(len(src), m.workers, func(part, lo, hi int) {
			for b := lo; b < hi; b++ {
				n := offs[b+1] - offs[b]
				kv := qkv[offs[b]*3*d : offs[b+1]*3*d]
				scores := grow(buf.scratch(part), n)
				for t := 0; t < n; t++ {
					attend(kv[t*3*d:t*3*d+d], kv, 3*d, d, 2*d, n, a.heads, a.scale, scores, ctx[(offs[b]+t)*d:(offs[b]+t+1)*d])
				}
			}
		})
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

func (m *Model) project(mem []float32, offs []int, buf *buffers) *memory {
	rows := offs[len(offs)-1]
	out := &memory{offs: offs, kv: make([][]float32, len(m.dec))}
	size := 0
	for li := range m.dec {
		if c := m.dec[li].cross; c != nil {
			size += rows * c.kv.out()
		}
	}
	all := grow(&buf.kv, size)
	for li := range m.dec {
		if c := m.dec[li].cross; c != nil {
			n := rows * c.kv.out()
			out.kv[li], all = all[:n:n], all[n:]
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
	slab    []float32   // when set, room for the caches of all layers at capHint steps
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
	buf.ensure(rows, d, m.workers)
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
		parallel(len(hyps), m.workers, func(part, lo, hi int) {
			for i := lo; i < hi; i++ {
				hy := hyps[i]
				if hy.cache[li] == nil {
					c := max(hy.capHint, 1) * 2 * d
					if len(hy.slab) >= len(hy.cache)*c {
						hy.cache[li] = hy.slab[li*c : li*c : (li+1)*c]
					} else {
						hy.cache[li] = make([]float32, 0, c)
					}
				}
				hy.cache[li] = append(hy.cache[li], qkv[i*3*d+d:(i+1)*3*d]...)
				n := len(hy.cache[li]) / (2 * d)
				scores := grow(buf.scratch(part), n)
				attend(qkv[i*3*d:i*3*d+d], hy.cache[li], 2*d, 0, d, n, a.heads, a.scale, scores, ctx[i*d:(i+1)*d])
			}
		})
		o := buf.o[:rows*d]
		a.out.apply(ctx, rows, o, m.workers)
		residual(a.norm, pre, x, o, rows)

		if c := l.cross; c != nil {
			h := normIn(c.norm, pre, x, buf.h[:rows*d], rows)
			q := buf.qkv[:rows*d]
			c.q.apply(h, rows, q, m.workers)
			parallel(len(hyps), m.workers, func(part, lo, hi int) {
				for i := lo; i < hi; i++ {
					off, end := mem.offs[hyps[i].batch], mem.offs[hyps[i].batch+1]
					n := end - off
					scores := grow(buf.scratch(part), n)
					attend(q[i*d:(i+1)*d], mem.kv[li][off*2*d:end*2*d], 2*d, 0, d, n, c.heads, c.scale, scores, ctx[i*d:(i+1)*d])
				}
			})
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
