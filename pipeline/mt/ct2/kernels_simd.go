//go:build goexperiment.simd && amd64

package ct2

import "simd/archsimd"

func hasAVX2FMA() bool { return archsimd.X86.AVX2() && archsimd.X86.FMA() }

func dot(a, b []float32) float32 { return dotPlain(a, b) }

// hsum4 stores the lane sums of four accumulators into out, in a fixed order.
func hsum4(a0, a1, a2, a3 archsimd.Float32x8, out []float32) {
	h := a0.AddPairsGrouped(a1).AddPairsGrouped(a2.AddPairsGrouped(a3))
	h.GetLo().Add(h.GetHi()).StoreSlice(out[:4])
}

// dot2x4 is dot2x4Plain with AVX2 fused multiply-adds, eight lanes at a time.
func dot2x4(x0, x1, w0, w1, w2, w3 []float32, res *[8]float32) {
	if !hasAVX2FMA() {
		dot2x4Plain(x0, x1, w0, w1, w2, w3, res)
		return
	}
	n := len(x0)
	x1, w0, w1, w2, w3 = x1[:n], w0[:n], w1[:n], w2[:n], w3[:n]
	var a0, a1, a2, a3, b0, b1, b2, b3 archsimd.Float32x8
	k := 0
	for ; k+8 <= n; k += 8 {
		u := archsimd.LoadFloat32x8Slice(x0[k : k+8])
		v := archsimd.LoadFloat32x8Slice(x1[k : k+8])
		c := archsimd.LoadFloat32x8Slice(w0[k : k+8])
		a0 = u.MulAdd(c, a0)
		b0 = v.MulAdd(c, b0)
		c = archsimd.LoadFloat32x8Slice(w1[k : k+8])
		a1 = u.MulAdd(c, a1)
		b1 = v.MulAdd(c, b1)
		c = archsimd.LoadFloat32x8Slice(w2[k : k+8])
		a2 = u.MulAdd(c, a2)
		b2 = v.MulAdd(c, b2)
		c = archsimd.LoadFloat32x8Slice(w3[k : k+8])
		a3 = u.MulAdd(c, a3)
		b3 = v.MulAdd(c, b3)
	}
	var r [8]float32
	hsum4(a0, a1, a2, a3, r[0:4])
	hsum4(b0, b1, b2, b3, r[4:8])
	for ; k < n; k++ {
		u, v := x0[k], x1[k]
		r[0] += u * w0[k]
		r[1] += u * w1[k]
		r[2] += u * w2[k]
		r[3] += u * w3[k]
		r[4] += v * w0[k]
		r[5] += v * w1[k]
		r[6] += v * w2[k]
		r[7] += v * w3[k]
	}
	*res = r
}

// widen converts int8 weights to float32, sixteen at a time.
func widen(q []int8, buf []float32) []float32 {
	buf = buf[:len(q)]
	i := 0
	if hasAVX2FMA() {
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
