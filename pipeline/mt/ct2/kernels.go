package ct2

import (
	"math"
	"sync"
)

// matrix is a row-major [rows][cols] weight: either float32, or int8 with one
// dequantization factor per row (w = q * inv[row]), kept as int8 in memory.
type matrix struct {
	rows, cols int
	f32        []float32
	i8         []int8
	inv        []float32
}

// row returns row r as float32, widening int8 rows into buf.
func (m *matrix) row(r int, buf []float32) []float32 {
	if m.i8 == nil {
		return m.f32[r*m.cols : (r+1)*m.cols]
	}
	q := m.i8[r*m.cols : (r+1)*m.cols]
	buf = buf[:len(q)]
	s := m.inv[r]
	for i, v := range q {
		buf[i] = float32(v) * s
	}
	return buf
}

// linear is a dense layer y = x·Wᵀ + b with W stored [out][in].
type linear struct {
	w    matrix
	bias []float32
}

func (l *linear) out() int { return l.w.rows }
func (l *linear) in() int  { return l.w.cols }

// apply computes out[n][l.out()] = x[n][l.in()]·Wᵀ + b, spreading blocks of
// output rows over the given number of workers.
func (l *linear) apply(x []float32, n int, out []float32, workers int) {
	rows := l.w.rows
	if n == 0 || rows == 0 {
		return
	}
	// Below this much work a goroutine costs more than it saves.
	if workers <= 1 || n*rows*l.w.cols < 1<<16 {
		l.applyRows(x, n, out, 0, rows)
		return
	}
	blocks := workers * 4
	step := (rows + blocks - 1) / blocks
	step = (step + 3) &^ 3
	var wg sync.WaitGroup
	next := make(chan int, blocks)
	for r := 0; r < rows; r += step {
		next <- r
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r0 := range next {
				l.applyRows(x, n, out, r0, min(r0+step, rows))
			}
		}()
	}
	wg.Wait()
}

// rowChunk bounds how many input rows share one pass over a weight block,
// so that they stay in cache while the weights stream by.
const rowChunk = 16

// applyRows computes output columns [r0, r1) for all n inputs, four weight
// rows by two input rows at a time so every loaded value is used several times.
func (l *linear) applyRows(x []float32, n int, out []float32, r0, r1 int) {
	cols := l.w.cols
	for i0 := 0; i0 < n; i0 += rowChunk {
		i1 := min(i0+rowChunk, n)
		l.applyTile(x[i0*cols:i1*cols], i1-i0, out[i0*l.w.rows:], r0, r1)
	}
}

func (l *linear) applyTile(x []float32, n int, out []float32, r0, r1 int) {
	cols := l.w.cols
	var scratch []float32
	var stack [4 * 2048]float32
	if l.w.i8 != nil {
		if 4*cols <= len(stack) {
			scratch = stack[:4*cols]
		} else {
			scratch = make([]float32, 4*cols)
		}
	}
	var res [8]float32
	r := r0
	for ; r+4 <= r1; r += 4 {
		var w0, w1, w2, w3 []float32
		if l.w.i8 != nil {
			w0 = widen(l.w.i8[r*cols:(r+1)*cols], scratch[0:cols])
			w1 = widen(l.w.i8[(r+1)*cols:(r+2)*cols], scratch[cols:2*cols])
			w2 = widen(l.w.i8[(r+2)*cols:(r+3)*cols], scratch[2*cols:3*cols])
			w3 = widen(l.w.i8[(r+3)*cols:(r+4)*cols], scratch[3*cols:4*cols])
		} else {
			w0 = l.w.f32[r*cols : (r+1)*cols]
			w1 = l.w.f32[(r+1)*cols : (r+2)*cols]
			w2 = l.w.f32[(r+2)*cols : (r+3)*cols]
			w3 = l.w.f32[(r+3)*cols : (r+4)*cols]
		}
		i := 0
		for ; i+2 <= n; i += 2 {
			dot2x4(x[i*cols:(i+1)*cols], x[(i+1)*cols:(i+2)*cols], w0, w1, w2, w3, &res)
			l.store(out, i, r, res[0:4])
			l.store(out, i+1, r, res[4:8])
		}
		if i < n {
			// The same kernel as the pairs, so a row's result never depends on the batch.
			xi := x[i*cols : (i+1)*cols]
			dot2x4(xi, xi, w0, w1, w2, w3, &res)
			l.store(out, i, r, res[0:4])
		}
	}
	for ; r < r1; r++ {
		var w []float32
		if l.w.i8 != nil {
			w = widen(l.w.i8[r*cols:(r+1)*cols], scratch[:cols])
		} else {
			w = l.w.f32[r*cols : (r+1)*cols]
		}
		for i := 0; i < n; i++ {
			xi := x[i*cols : (i+1)*cols]
			dot2x4(xi, xi, w, w, w, w, &res)
			l.store(out, i, r, res[0:1])
		}
	}
}

// store writes dot products for output row i, columns r.., applying the
// int8 dequantization factor and the bias.
func (l *linear) store(out []float32, i, r int, v []float32) {
	o := out[i*l.w.rows+r : i*l.w.rows+r+len(v)]
	for k := range v {
		s := v[k]
		if l.w.inv != nil {
			s *= l.w.inv[r+k]
		}
		if l.bias != nil {
			s += l.bias[r+k]
		}
		o[k] = s
	}
}

func widenPlain(q []int8, buf []float32) []float32 {
	buf = buf[:len(q)]
	for i, v := range q {
		buf[i] = float32(v)
	}
	return buf
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

// dot2x4Plain computes the eight dot products of two inputs with four weight rows.
func dot2x4Plain(x0, x1, w0, w1, w2, w3 []float32, res *[8]float32) {
	n := len(x0)
	x1, w0, w1, w2, w3 = x1[:n], w0[:n], w1[:n], w2[:n], w3[:n]
	var a0, a1, a2, a3, b0, b1, b2, b3 float32
	for k := 0; k < n; k++ {
		u, v := x0[k], x1[k]
		c0, c1, c2, c3 := w0[k], w1[k], w2[k], w3[k]
		a0 += u * c0
		a1 += u * c1
		a2 += u * c2
		a3 += u * c3
		b0 += v * c0
		b1 += v * c1
		b2 += v * c2
		b3 += v * c3
	}
	*res = [8]float32{a0, a1, a2, a3, b0, b1, b2, b3}
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
		e := float32(math.Exp(float64(v - m)))
		x[i] = e
		s += e
	}
	inv := 1 / s
	for i := range x {
		x[i] *= inv
	}
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

func argmax(x []float32) int {
	best, bi := float32(math.Inf(-1)), 0
	for i, v := range x {
		if v > best {
			best, bi = v, i
		}
	}
	return bi
}
