//go:build goexperiment.simd && amd64

package ct2

import "simd/archsimd"

var avx2FMA = archsimd.X86.AVX2() && archsimd.X86.FMA()

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
	s := ((r[0] + r[4]) + (r[1] + r[5])) + ((r[2] + r[6]) + (r[3] + r[7]))
	for ; i < len(a); i++ {
		s += a[i] * b[i]
	}
	return s
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
	}
	for ; i < len(q); i++ {
		buf[i] = float32(q[i])
	}
	return buf
}

// panelKernel is panelKernelPlain with AVX2 fused multiply-adds: the sixteen
// outputs of an input sit in the lanes of two registers, and each column of
// the panel is loaded once for four inputs.
func panelKernel(w, x []float32, n, cols int, out []float32, stride int, inv, bias []float32) {
	if !avx2FMA {
		panelKernelPlain(w, x, n, cols, out, stride, inv, bias)
		return
	}
	j := 0
	fours := n / 4
	if n%4 == 1 && n > 4 {
		fours-- // 4+1 inputs go as 3+2
	}
	for ; j < 4*fours; j += 4 {
		panelKernel4(w, x[j*cols:(j+4)*cols], cols, out[j*stride:], stride, inv, bias)
	}
	for ; j+3 <= n; j += 3 {
		panelKernel3(w, x[j*cols:(j+3)*cols], cols, out[j*stride:], stride, inv, bias)
	}
	for ; j+2 <= n; j += 2 {
		panelKernel2(w, x[j*cols:(j+2)*cols], cols, out[j*stride:], stride, inv, bias)
	}
	for ; j < n; j++ {
		panelKernel1(w, x[j*cols:(j+1)*cols], cols, out[j*stride:], stride, inv, bias)
	}
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

// panelKernel4 is panelKernel for exactly 4 inputs.
func panelKernel4(w, x []float32, cols int, out []float32, stride int, inv, bias []float32) {
	w = w[:cols*panelRows]
	x0 := x[:cols]
	x1 := x[1*cols : 2*cols][:len(x0)]
	x2 := x[2*cols : 3*cols][:len(x0)]
	x3 := x[3*cols : 4*cols][:len(x0)]
	var a0, b0, a1, b1, a2, b2, a3, b3 archsimd.Float32x8
	for k, u := range x0 {
		p := (*[panelRows]float32)(w[k*panelRows:])
		lo := archsimd.LoadFloat32x8((*[8]float32)(p[0:8]))
		hi := archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v0 := archsimd.BroadcastFloat32x8(u)
		a0 = v0.MulAdd(lo, a0)
		b0 = v0.MulAdd(hi, b0)
		v1 := archsimd.BroadcastFloat32x8(x1[k])
		a1 = v1.MulAdd(lo, a1)
		b1 = v1.MulAdd(hi, b1)
		v2 := archsimd.BroadcastFloat32x8(x2[k])
		a2 = v2.MulAdd(lo, a2)
		b2 = v2.MulAdd(hi, b2)
		v3 := archsimd.BroadcastFloat32x8(x3[k])
		a3 = v3.MulAdd(lo, a3)
		b3 = v3.MulAdd(hi, b3)
	}
	finish(a0, b0, out[0*stride:0*stride+panelRows], inv, bias)
	finish(a1, b1, out[1*stride:1*stride+panelRows], inv, bias)
	finish(a2, b2, out[2*stride:2*stride+panelRows], inv, bias)
	finish(a3, b3, out[3*stride:3*stride+panelRows], inv, bias)
}

// panelKernel3 is panelKernel for exactly 3 inputs.
func panelKernel3(w, x []float32, cols int, out []float32, stride int, inv, bias []float32) {
	w = w[:cols*panelRows]
	x0 := x[:cols]
	x1 := x[1*cols : 2*cols][:len(x0)]
	x2 := x[2*cols : 3*cols][:len(x0)]
	var a0, b0, a1, b1, a2, b2 archsimd.Float32x8
	for k, u := range x0 {
		p := (*[panelRows]float32)(w[k*panelRows:])
		lo := archsimd.LoadFloat32x8((*[8]float32)(p[0:8]))
		hi := archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v0 := archsimd.BroadcastFloat32x8(u)
		a0 = v0.MulAdd(lo, a0)
		b0 = v0.MulAdd(hi, b0)
		v1 := archsimd.BroadcastFloat32x8(x1[k])
		a1 = v1.MulAdd(lo, a1)
		b1 = v1.MulAdd(hi, b1)
		v2 := archsimd.BroadcastFloat32x8(x2[k])
		a2 = v2.MulAdd(lo, a2)
		b2 = v2.MulAdd(hi, b2)
	}
	finish(a0, b0, out[0*stride:0*stride+panelRows], inv, bias)
	finish(a1, b1, out[1*stride:1*stride+panelRows], inv, bias)
	finish(a2, b2, out[2*stride:2*stride+panelRows], inv, bias)
}

// panelKernel2 is panelKernel for exactly 2 inputs.
func panelKernel2(w, x []float32, cols int, out []float32, stride int, inv, bias []float32) {
	w = w[:cols*panelRows]
	x0 := x[:cols]
	x1 := x[1*cols : 2*cols][:len(x0)]
	var a0, b0, a1, b1 archsimd.Float32x8
	for k, u := range x0 {
		p := (*[panelRows]float32)(w[k*panelRows:])
		lo := archsimd.LoadFloat32x8((*[8]float32)(p[0:8]))
		hi := archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v0 := archsimd.BroadcastFloat32x8(u)
		a0 = v0.MulAdd(lo, a0)
		b0 = v0.MulAdd(hi, b0)
		v1 := archsimd.BroadcastFloat32x8(x1[k])
		a1 = v1.MulAdd(lo, a1)
		b1 = v1.MulAdd(hi, b1)
	}
	finish(a0, b0, out[0*stride:0*stride+panelRows], inv, bias)
	finish(a1, b1, out[1*stride:1*stride+panelRows], inv, bias)
}

// panelKernel1 is panelKernel for exactly 1 input.
func panelKernel1(w, x []float32, cols int, out []float32, stride int, inv, bias []float32) {
	w = w[:cols*panelRows]
	x0 := x[:cols]
	var a0, b0 archsimd.Float32x8
	for k, u := range x0 {
		p := (*[panelRows]float32)(w[k*panelRows:])
		lo := archsimd.LoadFloat32x8((*[8]float32)(p[0:8]))
		hi := archsimd.LoadFloat32x8((*[8]float32)(p[8:16]))
		v0 := archsimd.BroadcastFloat32x8(u)
		a0 = v0.MulAdd(lo, a0)
		b0 = v0.MulAdd(hi, b0)
	}
	finish(a0, b0, out[0*stride:0*stride+panelRows], inv, bias)
}
