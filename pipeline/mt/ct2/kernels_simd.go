//go:build goexperiment.simd && amd64

package ct2

import (
	"math/bits"
	"simd/archsimd"
)

var avx2FMA = archsimd.X86.AVX2() && archsimd.X86.FMA()

// Every function here that uses 256-bit registers clears their upper halves
// before returning (or before scalar code of its own): the rest of the
// program is compiled to SSE instructions, which on many x86 processors run
// with a false dependency, or a state-transition penalty, while the upper
// halves are dirty.

// dot is dotPlain with AVX2: two accumulators of eight lanes, summed in a fixed order.
func dot(a, b []float32) float32 {
	if !avx2FMA || len(a) < 16 {
		return dotPlain(a, b)
	}
	b = b[:len(a)]
	var s0, s1 archsimd.Float32x8
	i := 0
	for ; i+16 <= len(a); i += 16 {
		s0 = archsimd.LoadFloat32x8Slice(a[i:i+8]).MulAdd(archsimd.LoadFloat32x8Slice(b[i:i+8]), s0)
		s1 = archsimd.LoadFloat32x8Slice(a[i+8:i+16]).MulAdd(archsimd.LoadFloat32x8Slice(b[i+8:i+16]), s1)
	}
	var r [8]float32
	s0.Add(s1).Store(&r)
	archsimd.ClearAVXUpperBits()
	s := ((r[0] + r[4]) + (r[1] + r[5])) + ((r[2] + r[6]) + (r[3] + r[7]))
	for ; i < len(a); i++ {
		s += a[i] * b[i]
	}
	return s
}

// weighted is weightedPlain with AVX2, thirty-two outputs at a time kept in
// registers over all j (then eight at a time), with a separate multiply and
// add so that it rounds as weightedPlain does.
//
// It does not skip zero weights, which would take a scalar floating-point
// compare (an SSE instruction, slow with the upper halves of the registers
// dirty). The result is the same for finite values: a sum that starts at +0
// is never -0, and adding ±0 to it leaves it unchanged.
func weighted(p, kv []float32, stride, off int, o []float32) {
	if !avx2FMA || len(o) < 8 {
		weightedPlain(p, kv, stride, off, o)
		return
	}
	if len(p) > 0 {
		_ = kv[(len(p)-1)*stride+off+len(o)-1]
	}
	c := 0
	for ; c+32 <= len(o); c += 32 {
		var a0, a1, a2, a3 archsimd.Float32x8
		for j := range p {
			vp := archsimd.BroadcastFloat32x8(p[j])
			v := (*[32]float32)(kv[j*stride+off+c:])
			a0 = a0.Add(vp.Mul(archsimd.LoadFloat32x8((*[8]float32)(v[0:8]))))
			a1 = a1.Add(vp.Mul(archsimd.LoadFloat32x8((*[8]float32)(v[8:16]))))
			a2 = a2.Add(vp.Mul(archsimd.LoadFloat32x8((*[8]float32)(v[16:24]))))
			a3 = a3.Add(vp.Mul(archsimd.LoadFloat32x8((*[8]float32)(v[24:32]))))
		}
		a0.StoreSlice(o[c : c+8])
		a1.StoreSlice(o[c+8 : c+16])
		a2.StoreSlice(o[c+16 : c+24])
		a3.StoreSlice(o[c+24 : c+32])
	}
	for ; c+8 <= len(o); c += 8 {
		var a0 archsimd.Float32x8
		for j := range p {
			v := (*[8]float32)(kv[j*stride+off+c:])
			a0 = a0.Add(archsimd.BroadcastFloat32x8(p[j]).Mul(archsimd.LoadFloat32x8(v)))
		}
		a0.StoreSlice(o[c : c+8])
	}
	archsimd.ClearAVXUpperBits()
	if c < len(o) {
		weightedPlain(p, kv, stride, off+c, o[c:])
	}
}

// argmax is argmaxPlain with AVX2: the largest value eight lanes at a time,
// then the first position that holds it. With no NaN the maximum does not
// depend on the order of comparisons, and values equal to it (+0 and -0
// included) are exactly those the plain loop would stop at; a row with a NaN
// goes to the plain loop.
func argmax(x []float32) int {
	if !avx2FMA || len(x) < 8 {
		return argmaxPlain(x)
	}
	n := len(x) &^ 7
	m := archsimd.LoadFloat32x8Slice(x[0:8])
	nan := m.IsNaN()
	for i := 8; i < n; i += 8 {
		v := archsimd.LoadFloat32x8Slice(x[i : i+8])
		m = m.Max(v)
		nan = nan.Or(v.IsNaN())
	}
	var r [8]float32
	m.Store(&r)
	hasNaN := nan.ToBits() != 0
	archsimd.ClearAVXUpperBits()
	if hasNaN {
		return argmaxPlain(x)
	}
	best := r[0]
	for _, v := range r[1:] {
		best = max(best, v)
	}
	for _, v := range x[n:] {
		if v != v {
			return argmaxPlain(x)
		}
		best = max(best, v)
	}
	vb := archsimd.BroadcastFloat32x8(best)
	for i := 0; i < n; i += 8 {
		if b := archsimd.LoadFloat32x8Slice(x[i : i+8]).Equal(vb).ToBits(); b != 0 {
			archsimd.ClearAVXUpperBits()
			return i + bits.TrailingZeros8(b)
		}
	}
	archsimd.ClearAVXUpperBits()
	for i, v := range x[n:] {
		if v == best {
			return n + i
		}
	}
	return argmaxPlain(x)
}

// widen converts int8 weights to float32, sixteen at a time.
func widen(q []int8, buf []float32) []float32 {
	buf = buf[:len(q)]
	i := 0
	if avx2FMA {
		for ; i+16 <= len(q); i += 16 {
			w := archsimd.LoadInt8x16Slice(q[i : i+16]).ExtendToInt16()
			w.GetLo().ExtendToInt32().ConvertToFloat32().StoreSlice(buf[i : i+8])
			w.GetHi().ExtendToInt32().ConvertToFloat32().StoreSlice(buf[i+8 : i+16])
		}
		archsimd.ClearAVXUpperBits()
	}
	for ; i < len(q); i++ {
		buf[i] = float32(q[i])
	}
	return buf
}

// panelKernel is panelKernelPlain with AVX2 fused multiply-adds: the sixteen
// outputs of an input sit in the lanes of two registers, and each column of
// the panel is loaded once for all inputs of the group.
//
// Groups stop at four inputs: eight accumulators, the two registers of a
// column, a broadcast and its copy fit the sixteen vector registers.
func panelKernel(w, x []float32, s, cols int, out []float32, stride int, inv, bias []float32, carry bool) {
	if !avx2FMA {
		panelKernelPlain(w, x, s, cols, out, stride, inv, bias, carry)
		return
	}
	switch s {
	case 4:
		panelKernel4(w, x, cols, out, stride, inv, bias, carry)
	case 3:
		panelKernel3(w, x, cols, out, stride, inv, bias, carry)
	case 2:
		panelKernel2(w, x, cols, out, stride, inv, bias, carry)
	case 1:
		panelKernel1(w, x, cols, out, stride, inv, bias, carry)
	default:
		panic("ct2: panel kernel group too large")
	}
	archsimd.ClearAVXUpperBits()
}

// start loads the sixteen partial sums of one input.
func start(out []float32) (a, b archsimd.Float32x8) {
	return archsimd.LoadFloat32x8Slice(out[0:8]), archsimd.LoadFloat32x8Slice(out[8:16])
}

// finish scales and offsets the sixteen sums of one input and stores them.
func finish(a, b archsimd.Float32x8, out []float32, inv, bias []float32) {
	if inv != nil {
		a = a.Mul(archsimd.LoadFloat32x8Slice(inv[0:8]))
		b = b.Mul(archsimd.LoadFloat32x8Slice(inv[8:16]))
	}
	if bias != nil {
		a = a.Add(archsimd.LoadFloat32x8Slice(bias[0:8]))
		b = b.Add(archsimd.LoadFloat32x8Slice(bias[8:16]))
	}
	a.StoreSlice(out[0:8])
	b.StoreSlice(out[8:16])
}

// Each column is loaded and used by all inputs before the next, and the last
// use of a register is its first multiplicand, so the compiler needs few
// register copies and no spills. Multiplication commutes, so the order of
// the operands does not change any result. The broadcasts are written out
// with SetElem and Broadcast1To8 rather than by the inlined
// BroadcastFloat32x8, whose source positions lie in another file: the
// compiler's scheduler then keeps each column's steps in source order
// instead of hoisting every load to the top of the loop.

// panelKernel4 is panelKernel for a group of exactly 4 inputs, 4 columns at a time.
func panelKernel4(w, x []float32, cols int, out []float32, stride int, inv, bias []float32, carry bool) {
	w = w[:cols*panelRows]
	x = x[:cols*4]
	var a0, b0, a1, b1, a2, b2, a3, b3 archsimd.Float32x8
	var z archsimd.Float32x4
	if carry {
		a0, b0 = start(out[0*stride:])
		a1, b1 = start(out[1*stride:])
		a2, b2 = start(out[2*stride:])
		a3, b3 = start(out[3*stride:])
	}
	for len(w) >= 4*panelRows && len(x) >= 16 {
		p := (*[4 * panelRows]float32)(w)
		u := (*[16]float32)(x)
		lo, hi := archsimd.LoadFloat32x8((*[8]float32)(p[0:8])), archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v := z.SetElem(0, u[0]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[1]).Broadcast1To8()
		a1, b1 = v.MulAdd(lo, a1), v.MulAdd(hi, b1)
		v = z.SetElem(0, u[2]).Broadcast1To8()
		a2, b2 = v.MulAdd(lo, a2), v.MulAdd(hi, b2)
		v = z.SetElem(0, u[3]).Broadcast1To8()
		a3, b3 = lo.MulAdd(v, a3), v.MulAdd(hi, b3)
		lo, hi = archsimd.LoadFloat32x8((*[8]float32)(p[16:24])), archsimd.LoadFloat32x8((*[8]float32)(p[24:32]))
		v = z.SetElem(0, u[4]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[5]).Broadcast1To8()
		a1, b1 = v.MulAdd(lo, a1), v.MulAdd(hi, b1)
		v = z.SetElem(0, u[6]).Broadcast1To8()
		a2, b2 = v.MulAdd(lo, a2), v.MulAdd(hi, b2)
		v = z.SetElem(0, u[7]).Broadcast1To8()
		a3, b3 = lo.MulAdd(v, a3), v.MulAdd(hi, b3)
		lo, hi = archsimd.LoadFloat32x8((*[8]float32)(p[32:40])), archsimd.LoadFloat32x8((*[8]float32)(p[40:48]))
		v = z.SetElem(0, u[8]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[9]).Broadcast1To8()
		a1, b1 = v.MulAdd(lo, a1), v.MulAdd(hi, b1)
		v = z.SetElem(0, u[10]).Broadcast1To8()
		a2, b2 = v.MulAdd(lo, a2), v.MulAdd(hi, b2)
		v = z.SetElem(0, u[11]).Broadcast1To8()
		a3, b3 = lo.MulAdd(v, a3), v.MulAdd(hi, b3)
		lo, hi = archsimd.LoadFloat32x8((*[8]float32)(p[48:56])), archsimd.LoadFloat32x8((*[8]float32)(p[56:64]))
		v = z.SetElem(0, u[12]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[13]).Broadcast1To8()
		a1, b1 = v.MulAdd(lo, a1), v.MulAdd(hi, b1)
		v = z.SetElem(0, u[14]).Broadcast1To8()
		a2, b2 = v.MulAdd(lo, a2), v.MulAdd(hi, b2)
		v = z.SetElem(0, u[15]).Broadcast1To8()
		a3, b3 = lo.MulAdd(v, a3), v.MulAdd(hi, b3)
		w, x = w[4*panelRows:], x[16:]
	}
	for len(w) >= panelRows && len(x) >= 4 {
		p := (*[panelRows]float32)(w)
		u := (*[4]float32)(x)
		lo, hi := archsimd.LoadFloat32x8((*[8]float32)(p[0:8])), archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v := z.SetElem(0, u[0]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[1]).Broadcast1To8()
		a1, b1 = v.MulAdd(lo, a1), v.MulAdd(hi, b1)
		v = z.SetElem(0, u[2]).Broadcast1To8()
		a2, b2 = v.MulAdd(lo, a2), v.MulAdd(hi, b2)
		v = z.SetElem(0, u[3]).Broadcast1To8()
		a3, b3 = lo.MulAdd(v, a3), v.MulAdd(hi, b3)
		w, x = w[panelRows:], x[4:]
	}
	finish(a0, b0, out[0*stride:0*stride+panelRows], inv, bias)
	finish(a1, b1, out[1*stride:1*stride+panelRows], inv, bias)
	finish(a2, b2, out[2*stride:2*stride+panelRows], inv, bias)
	finish(a3, b3, out[3*stride:3*stride+panelRows], inv, bias)
}

// panelKernel3 is panelKernel for a group of exactly 3 inputs, 4 columns at a time.
func panelKernel3(w, x []float32, cols int, out []float32, stride int, inv, bias []float32, carry bool) {
	w = w[:cols*panelRows]
	x = x[:cols*3]
	var a0, b0, a1, b1, a2, b2 archsimd.Float32x8
	var z archsimd.Float32x4
	if carry {
		a0, b0 = start(out[0*stride:])
		a1, b1 = start(out[1*stride:])
		a2, b2 = start(out[2*stride:])
	}
	for len(w) >= 4*panelRows && len(x) >= 12 {
		p := (*[4 * panelRows]float32)(w)
		u := (*[12]float32)(x)
		lo, hi := archsimd.LoadFloat32x8((*[8]float32)(p[0:8])), archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v := z.SetElem(0, u[0]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[1]).Broadcast1To8()
		a1, b1 = v.MulAdd(lo, a1), v.MulAdd(hi, b1)
		v = z.SetElem(0, u[2]).Broadcast1To8()
		a2, b2 = lo.MulAdd(v, a2), v.MulAdd(hi, b2)
		lo, hi = archsimd.LoadFloat32x8((*[8]float32)(p[16:24])), archsimd.LoadFloat32x8((*[8]float32)(p[24:32]))
		v = z.SetElem(0, u[3]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[4]).Broadcast1To8()
		a1, b1 = v.MulAdd(lo, a1), v.MulAdd(hi, b1)
		v = z.SetElem(0, u[5]).Broadcast1To8()
		a2, b2 = lo.MulAdd(v, a2), v.MulAdd(hi, b2)
		lo, hi = archsimd.LoadFloat32x8((*[8]float32)(p[32:40])), archsimd.LoadFloat32x8((*[8]float32)(p[40:48]))
		v = z.SetElem(0, u[6]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[7]).Broadcast1To8()
		a1, b1 = v.MulAdd(lo, a1), v.MulAdd(hi, b1)
		v = z.SetElem(0, u[8]).Broadcast1To8()
		a2, b2 = lo.MulAdd(v, a2), v.MulAdd(hi, b2)
		lo, hi = archsimd.LoadFloat32x8((*[8]float32)(p[48:56])), archsimd.LoadFloat32x8((*[8]float32)(p[56:64]))
		v = z.SetElem(0, u[9]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[10]).Broadcast1To8()
		a1, b1 = v.MulAdd(lo, a1), v.MulAdd(hi, b1)
		v = z.SetElem(0, u[11]).Broadcast1To8()
		a2, b2 = lo.MulAdd(v, a2), v.MulAdd(hi, b2)
		w, x = w[4*panelRows:], x[12:]
	}
	for len(w) >= panelRows && len(x) >= 3 {
		p := (*[panelRows]float32)(w)
		u := (*[3]float32)(x)
		lo, hi := archsimd.LoadFloat32x8((*[8]float32)(p[0:8])), archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v := z.SetElem(0, u[0]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[1]).Broadcast1To8()
		a1, b1 = v.MulAdd(lo, a1), v.MulAdd(hi, b1)
		v = z.SetElem(0, u[2]).Broadcast1To8()
		a2, b2 = lo.MulAdd(v, a2), v.MulAdd(hi, b2)
		w, x = w[panelRows:], x[3:]
	}
	finish(a0, b0, out[0*stride:0*stride+panelRows], inv, bias)
	finish(a1, b1, out[1*stride:1*stride+panelRows], inv, bias)
	finish(a2, b2, out[2*stride:2*stride+panelRows], inv, bias)
}

// panelKernel2 is panelKernel for a group of exactly 2 inputs, 4 columns at a time.
func panelKernel2(w, x []float32, cols int, out []float32, stride int, inv, bias []float32, carry bool) {
	w = w[:cols*panelRows]
	x = x[:cols*2]
	var a0, b0, a1, b1 archsimd.Float32x8
	var z archsimd.Float32x4
	if carry {
		a0, b0 = start(out[0*stride:])
		a1, b1 = start(out[1*stride:])
	}
	for len(w) >= 4*panelRows && len(x) >= 8 {
		p := (*[4 * panelRows]float32)(w)
		u := (*[8]float32)(x)
		lo, hi := archsimd.LoadFloat32x8((*[8]float32)(p[0:8])), archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v := z.SetElem(0, u[0]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[1]).Broadcast1To8()
		a1, b1 = lo.MulAdd(v, a1), v.MulAdd(hi, b1)
		lo, hi = archsimd.LoadFloat32x8((*[8]float32)(p[16:24])), archsimd.LoadFloat32x8((*[8]float32)(p[24:32]))
		v = z.SetElem(0, u[2]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[3]).Broadcast1To8()
		a1, b1 = lo.MulAdd(v, a1), v.MulAdd(hi, b1)
		lo, hi = archsimd.LoadFloat32x8((*[8]float32)(p[32:40])), archsimd.LoadFloat32x8((*[8]float32)(p[40:48]))
		v = z.SetElem(0, u[4]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[5]).Broadcast1To8()
		a1, b1 = lo.MulAdd(v, a1), v.MulAdd(hi, b1)
		lo, hi = archsimd.LoadFloat32x8((*[8]float32)(p[48:56])), archsimd.LoadFloat32x8((*[8]float32)(p[56:64]))
		v = z.SetElem(0, u[6]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[7]).Broadcast1To8()
		a1, b1 = lo.MulAdd(v, a1), v.MulAdd(hi, b1)
		w, x = w[4*panelRows:], x[8:]
	}
	for len(w) >= panelRows && len(x) >= 2 {
		p := (*[panelRows]float32)(w)
		u := (*[2]float32)(x)
		lo, hi := archsimd.LoadFloat32x8((*[8]float32)(p[0:8])), archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v := z.SetElem(0, u[0]).Broadcast1To8()
		a0, b0 = v.MulAdd(lo, a0), v.MulAdd(hi, b0)
		v = z.SetElem(0, u[1]).Broadcast1To8()
		a1, b1 = lo.MulAdd(v, a1), v.MulAdd(hi, b1)
		w, x = w[panelRows:], x[2:]
	}
	finish(a0, b0, out[0*stride:0*stride+panelRows], inv, bias)
	finish(a1, b1, out[1*stride:1*stride+panelRows], inv, bias)
}

// panelKernel1 is panelKernel for a group of exactly 1 input, 4 columns at a time.
func panelKernel1(w, x []float32, cols int, out []float32, stride int, inv, bias []float32, carry bool) {
	w = w[:cols*panelRows]
	x = x[:cols*1]
	var a0, b0 archsimd.Float32x8
	var z archsimd.Float32x4
	if carry {
		a0, b0 = start(out[0*stride:])
	}
	for len(w) >= 4*panelRows && len(x) >= 4 {
		p := (*[4 * panelRows]float32)(w)
		u := (*[4]float32)(x)
		lo, hi := archsimd.LoadFloat32x8((*[8]float32)(p[0:8])), archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v := z.SetElem(0, u[0]).Broadcast1To8()
		a0, b0 = lo.MulAdd(v, a0), v.MulAdd(hi, b0)
		lo, hi = archsimd.LoadFloat32x8((*[8]float32)(p[16:24])), archsimd.LoadFloat32x8((*[8]float32)(p[24:32]))
		v = z.SetElem(0, u[1]).Broadcast1To8()
		a0, b0 = lo.MulAdd(v, a0), v.MulAdd(hi, b0)
		lo, hi = archsimd.LoadFloat32x8((*[8]float32)(p[32:40])), archsimd.LoadFloat32x8((*[8]float32)(p[40:48]))
		v = z.SetElem(0, u[2]).Broadcast1To8()
		a0, b0 = lo.MulAdd(v, a0), v.MulAdd(hi, b0)
		lo, hi = archsimd.LoadFloat32x8((*[8]float32)(p[48:56])), archsimd.LoadFloat32x8((*[8]float32)(p[56:64]))
		v = z.SetElem(0, u[3]).Broadcast1To8()
		a0, b0 = lo.MulAdd(v, a0), v.MulAdd(hi, b0)
		w, x = w[4*panelRows:], x[4:]
	}
	for len(w) >= panelRows && len(x) >= 1 {
		p := (*[panelRows]float32)(w)
		u := (*[1]float32)(x)
		lo, hi := archsimd.LoadFloat32x8((*[8]float32)(p[0:8])), archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v := z.SetElem(0, u[0]).Broadcast1To8()
		a0, b0 = lo.MulAdd(v, a0), v.MulAdd(hi, b0)
		w, x = w[panelRows:], x[1:]
	}
	finish(a0, b0, out[0*stride:0*stride+panelRows], inv, bias)
}
