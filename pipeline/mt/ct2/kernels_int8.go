package ct2

import (
	"math"
	"sync"
)

// The int8 compute type keeps a weight matrix as int8 panels of panelRows
// rows in which each row's columns come in runs of four: element (r, c) of
// panel p is at p*panelRows*kpad + (c/4)*4*panelRows + (r%panelRows)*4 + c%4,
// kpad being cols rounded up to a multiple of 4 (the padding is zero). One
// 32-byte load then holds four columns of eight rows, the shape that
// multiply-add of byte pairs into 16-bit sums, then of 16-bit pairs into
// 32-bit sums, reduces to one 32-bit sum per row.
//
// A weight w in [-127, 127] is stored as the byte of w+128 (an unsigned
// value in [1, 255]; padding is stored as 128, a zero weight), and inputs
// are quantized to [-64, 64]. The kernels multiply the unsigned weights by
// the signed inputs byte pair by byte pair into 16-bit sums, which are at
// most 2·255·64 = 32640 in magnitude and so never saturate: every sum is
// the exact integer Σ(w+128)·x, whatever kernel computes it, and the exact
// Σw·x is that minus 128·Σx, known once per input.
//
// Inputs get 129 levels rather than 255 for that reason: multiplying byte
// pairs (VPMADDUBSW) is the only 8-bit multiply AVX2 has, and with 255
// levels on both sides two products can exceed the 16-bit sum.

// quantMax is the largest magnitude of a quantized input.
const quantMax = 64

// weightBias is added to each weight to store it as an unsigned byte.
const weightBias = 128

// quadRows is the size of one run of four columns of a panel.
const quadRows = 4 * panelRows

// i8Panels is the number of int8 panels, the last one padded with zero rows.
func (m *matrix) i8Panels() int { return (m.rows + panelRows - 1) / panelRows }

// quadPanel returns panel p of an int8-compute matrix.
func (m *matrix) quadPanel(p int) []int8 {
	size := panelRows * m.kpad
	if full := m.rows / panelRows; p >= full {
		return m.qTail[:size]
	}
	return m.q[p*size : (p+1)*size]
}

// quadIndex is the position of element (r, c) within its panel.
func quadIndex(r, c int) int { return (c/4)*quadRows + (r%panelRows)*4 + c%4 }

// quantizeWeights turns a row-major [rows][cols] matrix into the int8
// layout (weights stored plus weightBias): from int8 values q with
// dequantization factors inv (w = q·inv), or,
// with q nil, from float32 values f quantized per row to 127/max|w|. An int8
// -128 becomes -127. When q is given, cols is a multiple of 4 and q is not
// used elsewhere, its full panels are rearranged in place.
func quantizeWeights(rows, cols int, q []int8, inv []float32, f []float32) matrix {
	m := matrix{rows: rows, cols: cols, kpad: (cols + 3) &^ 3}
	full := rows / panelRows
	if q != nil {
		m.inv = inv
	} else {
		m.inv = make([]float32, rows)
	}
	rowQ := make([]int8, cols)
	// value gives row r's int8 values, read before any write to its panel.
	value := func(r int) []int8 {
		if q != nil {
			for c, v := range q[r*cols : (r+1)*cols] {
				rowQ[c] = max(v, -127)
			}
			return rowQ
		}
		src := f[r*cols : (r+1)*cols]
		var amax float32
		for _, v := range src {
			amax = max(amax, abs32(v))
		}
		if amax == 0 || amax != amax {
			clear(rowQ)
			m.inv[r] = 0
			return rowQ
		}
		s := 127 / amax
		for c, v := range src {
			rowQ[c] = int8(max(-127, min(127, math.Round(float64(v*s)))))
		}
		m.inv[r] = amax / 127
		return rowQ
	}
	size := panelRows * m.kpad
	if q != nil && cols == m.kpad {
		m.q = q[:full*size]
	} else {
		m.q = make([]int8, full*size)
	}
	blk := make([][]int8, panelRows)
	for i := range blk {
		blk[i] = make([]int8, cols)
	}
	put := func(dst []int8, r0, n int) {
		for i := 0; i < n; i++ {
			copy(blk[i], value(r0+i))
		}
		for i := range dst {
			dst[i] = biased(0)
		}
		for i := 0; i < n; i++ {
			for c, v := range blk[i] {
				dst[quadIndex(i, c)] = biased(v)
			}
		}
	}
	for p := 0; p < full; p++ {
		put(m.q[p*size:(p+1)*size], p*panelRows, panelRows)
	}
	if rest := rows - full*panelRows; rest > 0 {
		m.qTail = make([]int8, size)
		put(m.qTail, full*panelRows, rest)
	}
	return m
}

// biased is the stored byte of weight w: the bits of the unsigned w+128.
func biased(w int8) int8 { return int8(uint8(w) ^ 0x80) }

// unbiased is the weight a stored byte holds.
func unbiased(b int8) int8 { return int8(uint8(b) ^ 0x80) }

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// quantizeRowPlain writes x quantized to [-quantMax, quantMax] into q (len(q) ≥
// len(x); the rest is zeroed) and returns the scale s, x ≈ q·s with
// s = max|x|/quantMax, and the sum of the quantized values.
func quantizeRowPlain(x []float32, q []int8) (float32, int32) {
	var amax float32
	for _, v := range x {
		amax = max(amax, abs32(v))
	}
	return quantizeRowBy(x, q, amax)
}

// quantizeRowBy is quantizeRow given max|x|.
func quantizeRowBy(x []float32, q []int8, amax float32) (float32, int32) {
	clear(q[len(x):])
	if amax == 0 || amax != amax || amax > math.MaxFloat32 {
		clear(q[:len(x)])
		return 0, 0
	}
	inv := quantMax / amax
	var sum int32
	for i, v := range x {
		// Rounding half away from zero, as CTranslate2 does.
		y := v * inv
		var b int8
		if y >= 0 {
			b = int8(min(quantMax, y+0.5))
		} else {
			b = int8(max(-quantMax, y-0.5))
		}
		q[i] = b
		sum += int32(b)
	}
	return amax / quantMax, sum
}

// packQuads rearranges quantized inputs (n rows of kpad bytes) into the
// groups of packInputs, four bytes of a row to an int32 (little-endian).
// The s inputs of a group starting at j0 go to xp[j0*k4:(j0+s)*k4] pair by
// pair, each pair as [k4][2], then a last odd input as [k4], so that a
// kernel reads each pair's values of a run of columns together.
func packQuads(xq []int8, n, kpad int, xp []int32) {
	count := groupCount(n)
	for g := 0; g < count; g++ {
		packGroup(xq, groupStart(n, count, g), groupStart(n, count, g+1), kpad, xp)
	}
}

// packGroup is packQuads for the group of inputs [j0, j1).
func packGroup(xq []int8, j0, j1, kpad int, xp []int32) {
	k4 := kpad / 4
	s := j1 - j0
	dst := xp[j0*k4 : j1*k4]
	for i := 0; i < s; i++ {
		src := xq[(j0+i)*kpad : (j0+i+1)*kpad]
		for k := 0; k < k4; k++ {
			b := src[4*k : 4*k+4]
			dst[quadInput(s, k4, i, k)] = int32(uint32(uint8(b[0])) | uint32(uint8(b[1]))<<8 | uint32(uint8(b[2]))<<16 | uint32(uint8(b[3]))<<24)
		}
	}
}

// quadInput is the position of run k of input i among a group of s packed by packQuads.
func quadInput(s, k4, i, k int) int {
	if i < s&^1 {
		return (i&^1)*k4 + 2*k + i&1
	}
	return i*k4 + k
}

// quadKernelPlain adds to (with carry) or sets acc[i*panelRows+r] to the
// integer dot product of row r of the panel w, as stored (each weight plus
// weightBias), over runs [q0, q1) of four columns (w holds just those runs)
// with input i of the s inputs of a group packed in x by packQuads over k4 runs.
func quadKernelPlain(w []int8, x []int32, s, k4, q0, q1 int, acc []int32, carry bool) {
	w, x, acc = w[:(q1-q0)*quadRows], x[:s*k4], acc[:s*panelRows]
	if !carry {
		clear(acc)
	}
	for k := q0; k < q1; k++ {
		wk := (*[quadRows]int8)(w[(k-q0)*quadRows:])
		for i := 0; i < s; i++ {
			u := x[quadInput(s, k4, i, k)]
			x0, x1, x2, x3 := int32(int8(u)), int32(int8(u>>8)), int32(int8(u>>16)), int32(int8(u>>24))
			a := (*[panelRows]int32)(acc[i*panelRows:])
			for r := range a {
				q := (*[4]int8)(wk[4*r:])
				a[r] += x0*int32(uint8(q[0])) + x1*int32(uint8(q[1])) + x2*int32(uint8(q[2])) + x3*int32(uint8(q[3]))
			}
		}
	}
}

var quadPool, accPool, quantPool, compPool sync.Pool

// kQuads is the number of runs of four columns taken at a time: sixteen rows
// of 4·kQuads int8 weights (16 KiB) stay in the first-level cache while
// every input group of the pass goes over them.
const kQuads = 256

// applyInt8 is apply for an int8-compute matrix: each input row is
// quantized, the panels give exact int32 sums, and each sum, less the
// input's compensation for the stored weights' bias, is scaled by the
// input's and the row's factors before the bias is added.
func (l *linear) applyInt8(x []float32, n int, out []float32, workers int) {
	rows, cols, kpad := l.w.rows, l.w.cols, l.w.kpad
	k4 := kpad / 4
	xq := getInt8(&quantPool, n*kpad)
	defer quantPool.Put(xq)
	xs := getFrom(&scratchPool, n)
	defer scratchPool.Put(xs)
	comp := getInt32(&compPool, n)
	defer compPool.Put(comp)
	xp := getInt32(&quadPool, n*k4)
	defer quadPool.Put(xp)
	panels := l.w.i8Panels()
	if n*rows*cols < 1<<17 {
		workers = 1
	}
	workers = min(workers, panels)
	// Quantizing and packing the inputs is shared out too: with the
	// products this fast it would otherwise be a sizeable serial part.
	count := groupCount(n)
	parallel(count, workers, func(_, lo, hi int) {
		for g := lo; g < hi; g++ {
			j0, j1 := groupStart(n, count, g), groupStart(n, count, g+1)
			for i := j0; i < j1; i++ {
				s, sum := quantizeRow(x[i*cols:(i+1)*cols], (*xq)[i*kpad:(i+1)*kpad])
				(*xs)[i], (*comp)[i] = s, weightBias*sum
			}
			packGroup(*xq, j0, j1, kpad, *xp)
		}
	})
	panelRuns(panels, workers, func(p0, p1 int) { l.applyQuadPanels(*xp, *xs, *comp, n, out, p0, p1) })
}

// applyQuadPanels computes the outputs of panels [p0, p1) for all n inputs.
func (l *linear) applyQuadPanels(xp []int32, xs []float32, comp []int32, n int, out []float32, p0, p1 int) {
	rows, k4 := l.w.rows, l.w.kpad/4
	accp := getInt32(&accPool, n*panelRows)
	defer accPool.Put(accp)
	acc := *accp
	count := groupCount(n)
	chunk := max(maxGroup, chunkBytes/(min(k4, kQuads)*4))
	for g0 := 0; g0 < count; {
		g1 := g0 + 1
		for g1 < count && groupStart(n, count, g1+1)-groupStart(n, count, g0) <= chunk {
			g1++
		}
		for p := p0; p < p1; p++ {
			w := l.w.quadPanel(p)
			for q0 := 0; q0 < k4; q0 += kQuads {
				q1 := min(q0+kQuads, k4)
				wc := w[q0*quadRows : q1*quadRows]
				for g := g0; g < g1; g++ {
					j0, j1 := groupStart(n, count, g), groupStart(n, count, g+1)
					s := j1 - j0
					quadKernel(wc, xp[j0*k4:j1*k4], s, k4, q0, q1, acc[j0*panelRows:], q0 > 0)
				}
			}
			r0 := p * panelRows
			nr := min(panelRows, rows-r0)
			inv := l.w.inv[r0 : r0+nr]
			var bias []float32
			if l.bias != nil {
				bias = l.bias[r0 : r0+nr]
			}
			j0, j1 := groupStart(n, count, g0), groupStart(n, count, g1)
			dequantize(acc[j0*panelRows:j1*panelRows], comp[j0:j1], xs[j0:j1], inv, bias, out[j0*rows+r0:], rows)
		}
		g0 = g1
	}
}

// dequantizePlain sets out[j*stride+r] for the len(xs) inputs j and the
// len(inv) rows r of a panel to (acc[j*panelRows+r] - comp[j]) scaled by
// xs[j]·inv[r], plus bias[r] (bias may be nil).
func dequantizePlain(acc, comp []int32, xs, inv, bias, out []float32, stride int) {
	for j, sx := range xs {
		a := acc[j*panelRows : j*panelRows+len(inv)]
		o := out[j*stride : j*stride+len(inv)]
		cj := comp[j]
		for r, v := range a {
			y := float32(v-cj) * (sx * inv[r])
			if bias != nil {
				y += bias[r]
			}
			o[r] = y
		}
	}
}

func getInt8(pool *sync.Pool, n int) *[]int8 {
	if p, ok := pool.Get().(*[]int8); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]int8, n)
	return &s
}

func getInt32(pool *sync.Pool, n int) *[]int32 {
	if p, ok := pool.Get().(*[]int32); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]int32, n)
	return &s
}
