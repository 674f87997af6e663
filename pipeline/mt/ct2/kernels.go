package ct2

import (
	"math"
	"sync"
	"sync/atomic"
)

// panelRows is the height of the row panels that weight matrices are packed
// into, so that one load of a column gives sixteen output rows.
const panelRows = 16

// matrix is a [rows][cols] weight: either float32, or int8 with one
// dequantization factor per row (w = q * inv[row]), kept as int8 in memory.
//
// The first rows&^(panelRows-1) rows are packed in panels of panelRows rows
// stored column by column: element (r, c) of such a row is at
// (r&^(panelRows-1))*cols + c*panelRows + r%panelRows. The remaining rows
// follow row by row.
//
// For the int8 compute type, q and qTail hold the weights instead, in the
// layout described in kernels_int8.go, with inv as the row factors.
type matrix struct {
	rows, cols int
	f32        []float32
	i8         []int8
	inv        []float32
	q, qTail   []int8
	kpad       int
}

// packed is the number of rows stored in panels.
func (m *matrix) packed() int { return m.rows &^ (panelRows - 1) }

// row returns row r as float32, unpacking it into buf when needed.
func (m *matrix) row(r int, buf []float32) []float32 {
	cols := m.cols
	if m.kpad > 0 {
		buf = buf[:cols]
		q, s := m.quadPanel(r/panelRows), m.inv[r]
		for c := range buf {
			buf[c] = float32(unbiased(q[quadIndex(r, c)])) * s
		}
		return buf
	}
	if r >= m.packed() {
		if m.i8 == nil {
			return m.f32[r*cols : (r+1)*cols]
		}
		q := m.i8[r*cols : (r+1)*cols]
		buf = buf[:len(q)]
		s := m.inv[r]
		for i, v := range q {
			buf[i] = float32(v) * s
		}
		return buf
	}
	buf = buf[:cols]
	base := (r&^(panelRows-1))*cols + r&(panelRows-1)
	if m.i8 == nil {
		w := m.f32[base : base+(cols-1)*panelRows+1]
		for c := range buf {
			buf[c] = w[c*panelRows]
		}
		return buf
	}
	q := m.i8[base : base+(cols-1)*panelRows+1]
	s := m.inv[r]
	for c := range buf {
		buf[c] = float32(q[c*panelRows]) * s
	}
	return buf
}

// packPanels rearranges a row-major [rows][cols] array in place into the
// panel layout of matrix.
func packPanels[T int8 | float32](a []T, rows, cols int) {
	if rows < panelRows || cols == 0 {
		return
	}
	tmp := make([]T, panelRows*cols)
	for p := 0; p+panelRows <= rows; p += panelRows {
		blk := a[p*cols : (p+panelRows)*cols]
		copy(tmp, blk)
		for r := 0; r < panelRows; r++ {
			src := tmp[r*cols : (r+1)*cols]
			for c, v := range src {
				blk[c*panelRows+r] = v
			}
		}
	}
}

// linear is a dense layer y = x·Wᵀ + b with W stored [out][in].
type linear struct {
	w    matrix
	bias []float32
}

func (l *linear) out() int { return l.w.rows }
func (l *linear) in() int  { return l.w.cols }

// scratchPool holds float32 buffers for widened int8 panels; packPool
// holds the inputs of a product rearranged into groups, and rowsPool the
// inputs of one group put back in rows by the portable kernel.
var scratchPool, packPool, rowsPool sync.Pool

func getScratch(n int) *[]float32 { return getFrom(&scratchPool, n) }

func getFrom(pool *sync.Pool, n int) *[]float32 {
	if p, ok := pool.Get().(*[]float32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]float32, n)
	return &s
}

// maxGroup is the most inputs that share one pass over a panel.
const maxGroup = 4

// groupCount is the number of groups n inputs are split into: the fewest of
// at most maxGroup inputs, sized as evenly as possible.
func groupCount(n int) int { return (n + maxGroup - 1) / maxGroup }

// groupStart is the first input of group g of the count groups of n inputs.
func groupStart(n, count, g int) int {
	q, r := n/count, n%count
	return g*q + min(g, r)
}

// packInputs rearranges x ([n][cols]) into xp group by group: the s inputs
// of a group starting at input j0 go to xp[j0*cols:(j0+s)*cols] as
// [cols][s], so that a kernel reads the group's values of a column together.
func packInputs(x []float32, n, cols int, xp []float32) {
	count := groupCount(n)
	for g := 0; g < count; g++ {
		j0, j1 := groupStart(n, count, g), groupStart(n, count, g+1)
		s := j1 - j0
		dst := xp[j0*cols : j1*cols]
		for i := 0; i < s; i++ {
			src := x[(j0+i)*cols : (j0+i+1)*cols]
			for k, v := range src {
				dst[k*s+i] = v
			}
		}
	}
}

// apply computes out[n][l.out()] = x[n][l.in()]·Wᵀ + b, sharing the weight
// panels out among up to the given number of goroutines.
//
// Every output is the same sequence of operations whatever n, the position
// of its input among the n, or the split, so results never depend on the batch.
func (l *linear) apply(x []float32, n int, out []float32, workers int) {
	rows, cols := l.w.rows, l.w.cols
	if n == 0 || rows == 0 {
		return
	}
	x, out = x[:n*cols], out[:n*rows]
	if l.w.kpad > 0 {
		l.applyInt8(x, n, out, workers)
		return
	}
	panels := rows / panelRows
	if panels > 0 {
		xp := getFrom(&packPool, n*cols)
		defer packPool.Put(xp)
		packInputs(x, n, cols, *xp)
		// Below this much work a goroutine costs more than it saves.
		if n*rows*cols < 1<<17 {
			workers = 1
		}
		panelRuns(panels, workers, func(p0, p1 int) { l.applyPanels(*xp, n, out, p0, p1) })
	}
	l.applyTail(x, n, out)
}

// chunkBytes bounds the inputs that share one pass over the weights, so
// that they stay in cache while the panels stream by.
const chunkBytes = 256 << 10

// kChunk is the number of columns of a panel taken at a time: sixteen rows
// of that many float32 weights (16 KiB) stay in the first-level cache while
// every input group of the pass goes over them.
const kChunk = 256

// panelRuns calls f on runs [p0, p1) covering panels [0, panels), on up to
// workers goroutines (this one among them). Goroutines take runs from a
// shared counter, so that one that gets less of the machine does not hold
// up the rest.
func panelRuns(panels, workers int, f func(p0, p1 int)) {
	workers = min(workers, panels)
	if workers <= 1 {
		f(0, panels)
		return
	}
	step := max(1, panels/(8*workers))
	var next atomic.Int64
	work := func() {
		for {
			p0 := int(next.Add(int64(step))) - step
			if p0 >= panels {
				return
			}
			f(p0, min(p0+step, panels))
		}
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for range workers - 1 {
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}

// applyPanels computes the outputs of panels [p0, p1) for all n inputs,
// given packed by packInputs.
//
// Each panel is taken kChunk columns at a time; a group's partial sums are
// kept in its outputs between chunks and carried on by the next one, so each
// output is still one sequence of multiply-adds over the columns in order.
func (l *linear) applyPanels(xp []float32, n int, out []float32, p0, p1 int) {
	if p0 >= p1 {
		return
	}
	rows, cols := l.w.rows, l.w.cols
	size := panelRows * cols
	var sp *[]float32
	if l.w.i8 != nil {
		sp = getScratch(panelRows * min(cols, kChunk))
		defer scratchPool.Put(sp)
	}
	count := groupCount(n)
	chunk := max(maxGroup, chunkBytes/(4*min(cols, kChunk)))
	for g0 := 0; g0 < count; {
		g1 := g0 + 1
		for g1 < count && groupStart(n, count, g1+1)-groupStart(n, count, g0) <= chunk {
			g1++
		}
		for p := p0; p < p1; p++ {
			r0 := p * panelRows
			var inv, bias []float32
			if l.w.inv != nil {
				inv = l.w.inv[r0 : r0+panelRows]
			}
			if l.bias != nil {
				bias = l.bias[r0 : r0+panelRows]
			}
			for k0 := 0; k0 < cols; k0 += kChunk {
				k1 := min(k0+kChunk, cols)
				var w []float32
				if l.w.i8 != nil {
					w = widen(l.w.i8[p*size+k0*panelRows:p*size+k1*panelRows], *sp)
				} else {
					w = l.w.f32[p*size+k0*panelRows : p*size+k1*panelRows]
				}
				ci, cb := inv, bias
				if k1 < cols {
					ci, cb = nil, nil
				}
				for g := g0; g < g1; g++ {
					j0, j1 := groupStart(n, count, g), groupStart(n, count, g+1)
					s := j1 - j0
					panelKernel(w, xp[j0*cols+k0*s:j0*cols+k1*s], s, k1-k0, out[j0*rows+r0:], rows, ci, cb, k0 > 0)
				}
			}
		}
		g0 = g1
	}
}

// applyTail computes the outputs of the rows left out of the panels.
func (l *linear) applyTail(x []float32, n int, out []float32) {
	rows, cols := l.w.rows, l.w.cols
	r0 := l.w.packed()
	if r0 == rows {
		return
	}
	var w []float32
	var sp *[]float32
	if l.w.i8 != nil {
		sp = getScratch(cols)
		defer scratchPool.Put(sp)
	}
	for r := r0; r < rows; r++ {
		if l.w.i8 != nil {
			w = widen(l.w.i8[r*cols:(r+1)*cols], *sp)
		} else {
			w = l.w.f32[r*cols : (r+1)*cols]
		}
		for i := 0; i < n; i++ {
			s := dotPlain(x[i*cols:(i+1)*cols], w)
			if l.w.inv != nil {
				s *= l.w.inv[r]
			}
			if l.bias != nil {
				s += l.bias[r]
			}
			out[i*rows+r] = s
		}
	}
}

func widenPlain(q []int8, buf []float32) []float32 {
	buf = buf[:len(q)]
	for i, v := range q {
		buf[i] = float32(v)
	}
	return buf
}

// weightedPlain sets o to the sum of p[j]·v_j over the j with p[j] != 0,
// in order of j, where v_j is kv[j*stride+off:j*stride+off+len(o)].
func weightedPlain(p, kv []float32, stride, off int, o []float32) {
	clear(o)
	for j, pj := range p {
		if pj == 0 {
			continue
		}
		base := j*stride + off
		v := kv[base : base+len(o)]
		for c := range o {
			o[c] += pj * v[c]
		}
	}
}

// dotPlain is the portable dot product, unrolled four ways.
func dotPlain(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// panelKernelPlain computes, for the s inputs of a group packed as
// [cols][s] in x, the sixteen outputs of the panel w ([cols][panelRows])
// into out[i*stride:i*stride+panelRows], scaled by inv and offset by bias
// (either may be nil); with carry it adds to the sums already in out instead
// of starting from zero. It copies the inputs back to rows first, which costs
// a sixteenth of the arithmetic; four rows by two inputs (or eight rows of
// a last single input) then share each pass over the panel.
func panelKernelPlain(w, x []float32, s, cols int, out []float32, stride int, inv, bias []float32, carry bool) {
	w = w[:cols*panelRows]
	rp := getFrom(&rowsPool, s*cols)
	defer rowsPool.Put(rp)
	rows := *rp
	for k := 0; k < cols; k++ {
		for i, v := range x[k*s : (k+1)*s] {
			rows[i*cols+k] = v
		}
	}
	j := 0
	for ; j+2 <= s; j += 2 {
		xa := rows[j*cols : (j+1)*cols]
		xb := rows[(j+1)*cols : (j+2)*cols][:len(xa)]
		for g := 0; g < panelRows; g += 4 {
			var a0, a1, a2, a3, b0, b1, b2, b3 float32
			if carry {
				oa, ob := out[j*stride+g:j*stride+g+4], out[(j+1)*stride+g:(j+1)*stride+g+4]
				a0, a1, a2, a3 = oa[0], oa[1], oa[2], oa[3]
				b0, b1, b2, b3 = ob[0], ob[1], ob[2], ob[3]
			}
			wg := w[g:]
			for k, u := range xa {
				wk := (*[4]float32)(wg[k*panelRows:])
				v := xb[k]
				a0 += u * wk[0]
				a1 += u * wk[1]
				a2 += u * wk[2]
				a3 += u * wk[3]
				b0 += v * wk[0]
				b1 += v * wk[1]
				b2 += v * wk[2]
				b3 += v * wk[3]
			}
			finishPlain(out[j*stride+g:j*stride+g+4], [4]float32{a0, a1, a2, a3}, g, inv, bias)
			finishPlain(out[(j+1)*stride+g:(j+1)*stride+g+4], [4]float32{b0, b1, b2, b3}, g, inv, bias)
		}
	}
	if j < s {
		xa := rows[j*cols : (j+1)*cols]
		for g := 0; g < panelRows; g += 8 {
			var a0, a1, a2, a3, a4, a5, a6, a7 float32
			if carry {
				o := out[j*stride+g : j*stride+g+8]
				a0, a1, a2, a3, a4, a5, a6, a7 = o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]
			}
			wg := w[g:]
			for k, u := range xa {
				wk := (*[8]float32)(wg[k*panelRows:])
				a0 += u * wk[0]
				a1 += u * wk[1]
				a2 += u * wk[2]
				a3 += u * wk[3]
				a4 += u * wk[4]
				a5 += u * wk[5]
				a6 += u * wk[6]
				a7 += u * wk[7]
			}
			finishPlain(out[j*stride+g:j*stride+g+4], [4]float32{a0, a1, a2, a3}, g, inv, bias)
			finishPlain(out[j*stride+g+4:j*stride+g+8], [4]float32{a4, a5, a6, a7}, g+4, inv, bias)
		}
	}
}

func finishPlain(o []float32, a [4]float32, g int, inv, bias []float32) {
	for k, s := range a {
		if inv != nil {
			s *= inv[g+k]
		}
		if bias != nil {
			s += bias[g+k]
		}
		o[k] = s
	}
}

// parallel calls f(part, lo, hi) for up to parts contiguous parts of
// [0, n), the first on the calling goroutine, and waits for all.
func parallel(n, parts int, f func(part, lo, hi int)) {
	parts = min(parts, n)
	if parts <= 1 {
		f(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(parts - 1)
	for p := 1; p < parts; p++ {
		go func() {
			defer wg.Done()
			f(p, n*p/parts, n*(p+1)/parts)
		}()
	}
	f(0, 0, n/parts)
	wg.Wait()
}

// layerNorm normalizes each row of x (n rows of len(gamma)) into out.
// With beta == nil it is RMS normalization.
func layerNorm(x []float32, n int, gamma, beta []float32, eps float32, out []float32) {
	d := len(gamma)
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		o := out[i*d : (i+1)*d]
		if beta == nil {
			var ss float64
			for _, v := range row {
				ss += float64(v) * float64(v)
			}
			inv := float32(1 / math.Sqrt(ss/float64(d)+float64(eps)))
			for k, v := range row {
				o[k] = v * inv * gamma[k]
			}
			continue
		}
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		mean := sum / float64(d)
		var vs float64
		for _, v := range row {
			dv := float64(v) - mean
			vs += dv * dv
		}
		inv := 1 / math.Sqrt(vs/float64(d)+float64(eps))
		for k, v := range row {
			o[k] = float32((float64(v)-mean)*inv)*gamma[k] + beta[k]
		}
	}
}

// Activation is the feed-forward activation, numbered as CTranslate2 numbers it.
type Activation int8

// Activations.
const (
	ReLU        Activation = 0
	GELUTanh    Activation = 1
	Swish       Activation = 2
	GELU        Activation = 3
	GELUSigmoid Activation = 4
	Tanh        Activation = 5
)

func (a Activation) apply(x []float32) {
	switch a {
	case ReLU:
		for i, v := range x {
			if v < 0 {
				x[i] = 0
			}
		}
	case GELUTanh:
		for i, v := range x {
			f := float64(v)
			x[i] = float32(0.5 * f * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(f+0.044715*f*f*f))))
		}
	case Swish:
		for i, v := range x {
			f := float64(v)
			x[i] = float32(f / (1 + math.Exp(-f)))
		}
	case GELU:
		for i, v := range x {
			f := float64(v)
			x[i] = float32(0.5 * f * (1 + math.Erf(f/math.Sqrt2)))
		}
	case GELUSigmoid:
		for i, v := range x {
			f := float64(v)
			x[i] = float32(f / (1 + math.Exp(-1.702*f)))
		}
	case Tanh:
		for i, v := range x {
			x[i] = float32(math.Tanh(float64(v)))
		}
	}
}

// softmaxInPlace turns x into probabilities.
func softmaxInPlace(x []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	var s float32
	for i, v := range x {
		// Below e^-87 the result would be a float32 subnormal, too small
		// to matter and slow to compute with: flush it to zero.
		var e float32
		if d := v - m; d > -87 {
			e = expNeg(d)
		}
		x[i] = e
		s += e
	}
	inv := 1 / s
	for i := range x {
		x[i] *= inv
	}
}

// expNeg is e^x for -87 < x ≤ 0 in float32, within a few ulp: x = k·ln2 + r
// with |r| ≤ ln2/2, e^r by its Taylor series to r⁷, times 2^k.
func expNeg(x float32) float32 {
	const (
		log2e = 1.44269504088896340736
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	k := int32(x*log2e - 0.5) // rounds x·log2e to nearest for x ≤ 0
	fk := float32(k)
	r := x - fk*ln2hi - fk*ln2lo
	p := float32(1.0 / 5040)
	p = p*r + 1.0/720
	p = p*r + 1.0/120
	p = p*r + 1.0/24
	p = p*r + 1.0/6
	p = p*r + 0.5
	p = p*r + 1
	p = p*r + 1
	return p * math.Float32frombits(uint32(k+127)<<23)
}

// logSoftmaxInPlace turns logits into log-probabilities.
func logSoftmaxInPlace(x []float32) {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v - m))
	}
	lse := m + float32(math.Log(s))
	for i := range x {
		x[i] -= lse
	}
}

// argmaxPlain is the position of the first largest value of x, ignoring
// NaNs, or 0.
func argmaxPlain(x []float32) int {
	best, bi := float32(math.Inf(-1)), 0
	for i, v := range x {
		if v > best {
			best, bi = v, i
		}
	}
	return bi
}
