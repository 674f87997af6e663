//go:build !goexperiment.simd || !amd64

package ct2

func dot(a, b []float32) float32 { return dotPlain(a, b) }

func widen(q []int8, buf []float32) []float32 { return widenPlain(q, buf) }

func panelKernel(w, x []float32, s, cols int, out []float32, stride int, inv, bias []float32, carry bool) {
	panelKernelPlain(w, x, s, cols, out, stride, inv, bias, carry)
}

func weighted(p, kv []float32, stride, off int, o []float32) { weightedPlain(p, kv, stride, off, o) }

func argmax(x []float32) int { return argmaxPlain(x) }

func quadKernel(w []int8, x []int32, s, k4, q0, q1 int, acc []int32, carry bool) {
	quadKernelPlain(w, x, s, k4, q0, q1, acc, carry)
}

func dequantize(acc, comp []int32, xs, inv, bias, out []float32, stride int) {
	dequantizePlain(acc, comp, xs, inv, bias, out, stride)
}

func quantizeRow(x []float32, q []int8) (float32, int32) { return quantizeRowPlain(x, q) }
