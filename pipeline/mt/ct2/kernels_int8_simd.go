//go:build goexperiment.simd && amd64

package ct2

import (
	"math"
	"simd/archsimd"
)

// quadKernel is quadKernelPlain with AVX2: a run of four columns of the
// panel is two registers (eight rows each); for every input its four bytes
// are broadcast, multiplied by the stored (unsigned) weights byte pair by
// byte pair into 16-bit sums (VPMADDUBSW) and those added in pairs into the
// row's 32-bit sums (VPMADDWD by ones). No 16-bit sum saturates (see
// kernels_int8.go), so the sums equal quadKernelPlain's bit for bit.
//
// Inputs go two at a time over the panel, which stays in the first-level
// cache: the compiler computes all products of a loop iteration before it
// adds them to the sums, and for more than two inputs that needs more than
// the sixteen vector registers.
func quadKernel(w []int8, x []int32, s, k4, q0, q1 int, acc []int32, carry bool) {
	if !avx2FMA {
		quadKernelPlain(w, x, s, k4, q0, q1, acc, carry)
		return
	}
	if s < 1 || s > maxGroup {
		panic("ct2: int8 panel kernel group too large")
	}
	n := q1 - q0
	w = w[:n*quadRows]
	i := 0
	for ; i+2 <= s; i += 2 {
		quadKernel2(w, x[i*k4+2*q0:i*k4+2*q1], acc[i*panelRows:(i+2)*panelRows], carry)
	}
	if i < s {
		quadKernel1(w, x[i*k4+q0:i*k4+q1], acc[i*panelRows:(i+1)*panelRows], carry)
	}
	archsimd.ClearAVXUpperBits()
}

// quadKernel2 is quadKernel for one pair of inputs, x holding their values
// of each run of four columns together, two runs at a time.
func quadKernel2(w []int8, x []int32, acc []int32, carry bool) {
	ones := archsimd.BroadcastInt16x16(1)
	var a0, b0, a1, b1 archsimd.Int32x8
	if carry {
		a0, b0 = archsimd.LoadInt32x8Slice(acc[0:8]), archsimd.LoadInt32x8Slice(acc[8:16])
		a1, b1 = archsimd.LoadInt32x8Slice(acc[16:24]), archsimd.LoadInt32x8Slice(acc[24:32])
	}
	for len(w) >= 2*quadRows && len(x) >= 4 {
		p := (*[2 * quadRows]int8)(w)
		u := (*[4]int32)(x)
		lo := archsimd.LoadInt8x32((*[32]int8)(p[0:32])).AsUint8x32()
		hi := archsimd.LoadInt8x32((*[32]int8)(p[32:64])).AsUint8x32()
		v := archsimd.BroadcastInt32x8(u[0]).AsInt8x32()
		a0 = a0.Add(lo.DotProductPairsSaturated(v).DotProductPairs(ones))
		b0 = b0.Add(hi.DotProductPairsSaturated(v).DotProductPairs(ones))
		v = archsimd.BroadcastInt32x8(u[1]).AsInt8x32()
		a1 = a1.Add(lo.DotProductPairsSaturated(v).DotProductPairs(ones))
		b1 = b1.Add(hi.DotProductPairsSaturated(v).DotProductPairs(ones))
		lo = archsimd.LoadInt8x32((*[32]int8)(p[64:96])).AsUint8x32()
		hi = archsimd.LoadInt8x32((*[32]int8)(p[96:128])).AsUint8x32()
		v = archsimd.BroadcastInt32x8(u[2]).AsInt8x32()
		a0 = a0.Add(lo.DotProductPairsSaturated(v).DotProductPairs(ones))
		b0 = b0.Add(hi.DotProductPairsSaturated(v).DotProductPairs(ones))
		v = archsimd.BroadcastInt32x8(u[3]).AsInt8x32()
		a1 = a1.Add(lo.DotProductPairsSaturated(v).DotProductPairs(ones))
		b1 = b1.Add(hi.DotProductPairsSaturated(v).DotProductPairs(ones))
		w, x = w[2*quadRows:], x[4:]
	}
	for len(w) >= quadRows && len(x) >= 2 {
		p := (*[quadRows]int8)(w)
		u := (*[2]int32)(x)
		lo := archsimd.LoadInt8x32((*[32]int8)(p[0:32])).AsUint8x32()
		hi := archsimd.LoadInt8x32((*[32]int8)(p[32:64])).AsUint8x32()
		v := archsimd.BroadcastInt32x8(u[0]).AsInt8x32()
		a0 = a0.Add(lo.DotProductPairsSaturated(v).DotProductPairs(ones))
		b0 = b0.Add(hi.DotProductPairsSaturated(v).DotProductPairs(ones))
		v = archsimd.BroadcastInt32x8(u[1]).AsInt8x32()
		a1 = a1.Add(lo.DotProductPairsSaturated(v).DotProductPairs(ones))
		b1 = b1.Add(hi.DotProductPairsSaturated(v).DotProductPairs(ones))
		w, x = w[quadRows:], x[2:]
	}
	a0.StoreSlice(acc[0:8])
	b0.StoreSlice(acc[8:16])
	a1.StoreSlice(acc[16:24])
	b1.StoreSlice(acc[24:32])
}

// quadKernel1 is quadKernel for one input, two runs at a time.
func quadKernel1(w []int8, x []int32, acc []int32, carry bool) {
	ones := archsimd.BroadcastInt16x16(1)
	var a0, b0 archsimd.Int32x8
	if carry {
		a0, b0 = archsimd.LoadInt32x8Slice(acc[0:8]), archsimd.LoadInt32x8Slice(acc[8:16])
	}
	for len(w) >= 2*quadRows && len(x) >= 2 {
		p := (*[2 * quadRows]int8)(w)
		u := (*[2]int32)(x)
		lo := archsimd.LoadInt8x32((*[32]int8)(p[0:32])).AsUint8x32()
		hi := archsimd.LoadInt8x32((*[32]int8)(p[32:64])).AsUint8x32()
		v := archsimd.BroadcastInt32x8(u[0]).AsInt8x32()
		a0 = a0.Add(lo.DotProductPairsSaturated(v).DotProductPairs(ones))
		b0 = b0.Add(hi.DotProductPairsSaturated(v).DotProductPairs(ones))
		lo = archsimd.LoadInt8x32((*[32]int8)(p[64:96])).AsUint8x32()
		hi = archsimd.LoadInt8x32((*[32]int8)(p[96:128])).AsUint8x32()
		v = archsimd.BroadcastInt32x8(u[1]).AsInt8x32()
		a0 = a0.Add(lo.DotProductPairsSaturated(v).DotProductPairs(ones))
		b0 = b0.Add(hi.DotProductPairsSaturated(v).DotProductPairs(ones))
		w, x = w[2*quadRows:], x[2:]
	}
	for len(w) >= quadRows && len(x) >= 1 {
		p := (*[quadRows]int8)(w)
		lo := archsimd.LoadInt8x32((*[32]int8)(p[0:32])).AsUint8x32()
		hi := archsimd.LoadInt8x32((*[32]int8)(p[32:64])).AsUint8x32()
		v := archsimd.BroadcastInt32x8(x[0]).AsInt8x32()
		a0 = a0.Add(lo.DotProductPairsSaturated(v).DotProductPairs(ones))
		b0 = b0.Add(hi.DotProductPairsSaturated(v).DotProductPairs(ones))
		w, x = w[quadRows:], x[1:]
	}
	a0.StoreSlice(acc[0:8])
	b0.StoreSlice(acc[8:16])
}

// dequantize is dequantizePlain with AVX2 for full panels; it rounds as
// dequantizePlain does (conversion, then one product and one sum per value).
func dequantize(acc, comp []int32, xs, inv, bias, out []float32, stride int) {
	if !avx2FMA || len(inv) != panelRows {
		dequantizePlain(acc, comp, xs, inv, bias, out, stride)
		return
	}
	invLo, invHi := archsimd.LoadFloat32x8Slice(inv[0:8]), archsimd.LoadFloat32x8Slice(inv[8:16])
	var biasLo, biasHi archsimd.Float32x8
	if bias != nil {
		biasLo, biasHi = archsimd.LoadFloat32x8Slice(bias[0:8]), archsimd.LoadFloat32x8Slice(bias[8:16])
	}
	for j, sx := range xs {
		a := acc[j*panelRows : (j+1)*panelRows]
		o := out[j*stride : j*stride+panelRows]
		c := archsimd.BroadcastInt32x8(comp[j])
		vs := archsimd.BroadcastFloat32x8(sx)
		lo := archsimd.LoadInt32x8Slice(a[0:8]).Sub(c).ConvertToFloat32().Mul(vs.Mul(invLo))
		hi := archsimd.LoadInt32x8Slice(a[8:16]).Sub(c).ConvertToFloat32().Mul(vs.Mul(invHi))
		if bias != nil {
			lo, hi = lo.Add(biasLo), hi.Add(biasHi)
		}
		lo.StoreSlice(o[0:8])
		hi.StoreSlice(o[8:16])
	}
	archsimd.ClearAVXUpperBits()
}

// quantizeRow is quantizeRowPlain with AVX2, eight values at a time: the
// largest magnitude, then each value times quantMax/max|x| rounded half away
// from zero (adding ±0.5, then truncating) and clamped, as quantizeRowPlain
// rounds. A row with a NaN goes to quantizeRowPlain.
func quantizeRow(x []float32, q []int8) (float32, int32) {
	if !avx2FMA || len(x) < 8 {
		return quantizeRowPlain(x, q)
	}
	n := len(x) &^ 7
	magnitude := archsimd.BroadcastInt32x8(0x7fffffff)
	var m archsimd.Float32x8
	nan := m.IsNaN()
	for i := 0; i < n; i += 8 {
		v := archsimd.LoadFloat32x8Slice(x[i : i+8])
		nan = nan.Or(v.IsNaN())
		m = m.Max(v.AsInt32x8().And(magnitude).AsFloat32x8())
	}
	var r [8]float32
	m.Store(&r)
	hasNaN := nan.ToBits() != 0
	archsimd.ClearAVXUpperBits()
	if hasNaN {
		return quantizeRowPlain(x, q)
	}
	amax := r[0]
	for _, v := range r[1:] {
		amax = max(amax, v)
	}
	for _, v := range x[n:] {
		amax = max(amax, abs32(v))
	}
	if amax == 0 || amax != amax || amax > math.MaxFloat32 {
		return quantizeRowBy(x, q, amax)
	}
	inv := archsimd.BroadcastFloat32x8(quantMax / amax)
	sign := archsimd.BroadcastInt32x8(-1 << 31)
	half := archsimd.BroadcastFloat32x8(0.5).AsInt32x8()
	lo, hi := archsimd.BroadcastInt32x8(-quantMax), archsimd.BroadcastInt32x8(quantMax)
	var sums archsimd.Int32x8
	var t [8]int32
	for i := 0; i < n; i += 8 {
		y := archsimd.LoadFloat32x8Slice(x[i : i+8]).Mul(inv)
		h := y.AsInt32x8().And(sign).Or(half).AsFloat32x8()
		v := y.Add(h).ConvertToInt32().Max(lo).Min(hi)
		sums = sums.Add(v)
		v.Store(&t)
		d := (*[8]int8)(q[i : i+8])
		for k, b := range t {
			d[k] = int8(b)
		}
	}
	var sv [8]int32
	sums.Store(&sv)
	archsimd.ClearAVXUpperBits()
	sum := ((sv[0] + sv[1]) + (sv[2] + sv[3])) + ((sv[4] + sv[5]) + (sv[6] + sv[7]))
	if n < len(x) {
		_, s := quantizeRowBy(x[n:], q[n:], amax)
		sum += s
	} else {
		clear(q[len(x):])
	}
	return amax / quantMax, sum
}
