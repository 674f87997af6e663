//go:build goexperiment.simd && amd64

package ct2

import "simd/archsimd"

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

// axpy is axpyPlain eight lanes at a time, with a separate multiply and add
// so that it rounds as axpyPlain does. It leaves the upper halves of the
// vector registers dirty, for a caller that calls it in a loop to clear
// with clearUpper when done, before scalar floating-point code runs.
func axpy(a float32, x, y []float32) {
	x = x[:len(y)]
	i := 0
	if avx2FMA {
		va := archsimd.BroadcastFloat32x8(a)
		for ; i+8 <= len(y); i += 8 {
			archsimd.LoadFloat32x8Slice(y[i : i+8]).Add(va.Mul(archsimd.LoadFloat32x8Slice(x[i : i+8]))).StoreSlice(y[i : i+8])
		}
	}
	for ; i < len(y); i++ {
		y[i] += a * x[i]
	}
}

// clearUpper clears the upper halves of the vector registers after calls
// of axpy.
func clearUpper() {
	if avx2FMA {
		archsimd.ClearAVXUpperBits()
	}
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
// outputs of an input sit in the lanes of two registers, and each pair of
// columns of the panel is loaded once for all inputs of the group.
//
// Groups stop at three inputs: six accumulators, four weight registers and
// the broadcasts fit the sixteen vector registers, where more inputs (or
// more columns at a time) make the compiler spill inside the loop.
func panelKernel(w, x []float32, s, cols int, out []float32, stride int, inv, bias []float32, carry bool) {
	if !avx2FMA {
		panelKernelPlain(w, x, s, cols, out, stride, inv, bias, carry)
		return
	}
	switch s {
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

// panelKernel3 is panelKernel for a group of exactly 3 inputs, two columns at a time.
func panelKernel3(w, x []float32, cols int, out []float32, stride int, inv, bias []float32, carry bool) {
	w = w[:cols*panelRows]
	x = x[:cols*3]
	var a0, b0, a1, b1, a2, b2 archsimd.Float32x8
	if carry {
		a0, b0 = start(out[0*stride:])
		a1, b1 = start(out[1*stride:])
		a2, b2 = start(out[2*stride:])
	}
	for len(w) >= 2*panelRows && len(x) >= 6 {
		p := (*[2 * panelRows]float32)(w)
		u := (*[6]float32)(x)
		lo0 := archsimd.LoadFloat32x8((*[8]float32)(p[0:8]))
		hi0 := archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v00 := archsimd.BroadcastFloat32x8(u[0])
		a0 = v00.MulAdd(lo0, a0)
		b0 = v00.MulAdd(hi0, b0)
		v10 := archsimd.BroadcastFloat32x8(u[1])
		a1 = v10.MulAdd(lo0, a1)
		b1 = v10.MulAdd(hi0, b1)
		v20 := archsimd.BroadcastFloat32x8(u[2])
		a2 = v20.MulAdd(lo0, a2)
		b2 = v20.MulAdd(hi0, b2)
		lo1 := archsimd.LoadFloat32x8((*[8]float32)(p[16:24]))
		hi1 := archsimd.LoadFloat32x8((*[8]float32)(p[24:32]))
		v01 := archsimd.BroadcastFloat32x8(u[3])
		a0 = v01.MulAdd(lo1, a0)
		b0 = v01.MulAdd(hi1, b0)
		v11 := archsimd.BroadcastFloat32x8(u[4])
		a1 = v11.MulAdd(lo1, a1)
		b1 = v11.MulAdd(hi1, b1)
		v21 := archsimd.BroadcastFloat32x8(u[5])
		a2 = v21.MulAdd(lo1, a2)
		b2 = v21.MulAdd(hi1, b2)
		w, x = w[2*panelRows:], x[6:]
	}
	if len(w) >= panelRows && len(x) >= 3 {
		p := (*[panelRows]float32)(w)
		u := (*[3]float32)(x)
		lo0 := archsimd.LoadFloat32x8((*[8]float32)(p[0:8]))
		hi0 := archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v00 := archsimd.BroadcastFloat32x8(u[0])
		a0 = v00.MulAdd(lo0, a0)
		b0 = v00.MulAdd(hi0, b0)
		v10 := archsimd.BroadcastFloat32x8(u[1])
		a1 = v10.MulAdd(lo0, a1)
		b1 = v10.MulAdd(hi0, b1)
		v20 := archsimd.BroadcastFloat32x8(u[2])
		a2 = v20.MulAdd(lo0, a2)
		b2 = v20.MulAdd(hi0, b2)
	}
	finish(a0, b0, out[0*stride:0*stride+panelRows], inv, bias)
	finish(a1, b1, out[1*stride:1*stride+panelRows], inv, bias)
	finish(a2, b2, out[2*stride:2*stride+panelRows], inv, bias)
}

// panelKernel2 is panelKernel for a group of exactly 2 inputs, two columns at a time.
func panelKernel2(w, x []float32, cols int, out []float32, stride int, inv, bias []float32, carry bool) {
	w = w[:cols*panelRows]
	x = x[:cols*2]
	var a0, b0, a1, b1 archsimd.Float32x8
	if carry {
		a0, b0 = start(out[0*stride:])
		a1, b1 = start(out[1*stride:])
	}
	for len(w) >= 2*panelRows && len(x) >= 4 {
		p := (*[2 * panelRows]float32)(w)
		u := (*[4]float32)(x)
		lo0 := archsimd.LoadFloat32x8((*[8]float32)(p[0:8]))
		hi0 := archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v00 := archsimd.BroadcastFloat32x8(u[0])
		a0 = v00.MulAdd(lo0, a0)
		b0 = v00.MulAdd(hi0, b0)
		v10 := archsimd.BroadcastFloat32x8(u[1])
		a1 = v10.MulAdd(lo0, a1)
		b1 = v10.MulAdd(hi0, b1)
		lo1 := archsimd.LoadFloat32x8((*[8]float32)(p[16:24]))
		hi1 := archsimd.LoadFloat32x8((*[8]float32)(p[24:32]))
		v01 := archsimd.BroadcastFloat32x8(u[2])
		a0 = v01.MulAdd(lo1, a0)
		b0 = v01.MulAdd(hi1, b0)
		v11 := archsimd.BroadcastFloat32x8(u[3])
		a1 = v11.MulAdd(lo1, a1)
		b1 = v11.MulAdd(hi1, b1)
		w, x = w[2*panelRows:], x[4:]
	}
	if len(w) >= panelRows && len(x) >= 2 {
		p := (*[panelRows]float32)(w)
		u := (*[2]float32)(x)
		lo0 := archsimd.LoadFloat32x8((*[8]float32)(p[0:8]))
		hi0 := archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v00 := archsimd.BroadcastFloat32x8(u[0])
		a0 = v00.MulAdd(lo0, a0)
		b0 = v00.MulAdd(hi0, b0)
		v10 := archsimd.BroadcastFloat32x8(u[1])
		a1 = v10.MulAdd(lo0, a1)
		b1 = v10.MulAdd(hi0, b1)
	}
	finish(a0, b0, out[0*stride:0*stride+panelRows], inv, bias)
	finish(a1, b1, out[1*stride:1*stride+panelRows], inv, bias)
}

// panelKernel1 is panelKernel for a group of exactly 1 input, two columns at a time.
func panelKernel1(w, x []float32, cols int, out []float32, stride int, inv, bias []float32, carry bool) {
	w = w[:cols*panelRows]
	x = x[:cols*1]
	var a0, b0 archsimd.Float32x8
	if carry {
		a0, b0 = start(out[0*stride:])
	}
	for len(w) >= 2*panelRows && len(x) >= 2 {
		p := (*[2 * panelRows]float32)(w)
		u := (*[2]float32)(x)
		lo0 := archsimd.LoadFloat32x8((*[8]float32)(p[0:8]))
		hi0 := archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v00 := archsimd.BroadcastFloat32x8(u[0])
		a0 = v00.MulAdd(lo0, a0)
		b0 = v00.MulAdd(hi0, b0)
		lo1 := archsimd.LoadFloat32x8((*[8]float32)(p[16:24]))
		hi1 := archsimd.LoadFloat32x8((*[8]float32)(p[24:32]))
		v01 := archsimd.BroadcastFloat32x8(u[1])
		a0 = v01.MulAdd(lo1, a0)
		b0 = v01.MulAdd(hi1, b0)
		w, x = w[2*panelRows:], x[2:]
	}
	if len(w) >= panelRows && len(x) >= 1 {
		p := (*[panelRows]float32)(w)
		u := (*[1]float32)(x)
		lo0 := archsimd.LoadFloat32x8((*[8]float32)(p[0:8]))
		hi0 := archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v00 := archsimd.BroadcastFloat32x8(u[0])
		a0 = v00.MulAdd(lo0, a0)
		b0 = v00.MulAdd(hi0, b0)
	}
	finish(a0, b0, out[0*stride:0*stride+panelRows], inv, bias)
}
