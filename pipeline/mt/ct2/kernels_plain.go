//go:build !goexperiment.simd || !amd64

package ct2

func dot(a, b []float32) float32 { return dotPlain(a, b) }

func dot2x4(x0, x1, w0, w1, w2, w3 []float32, res *[8]float32) {
	dot2x4Plain(x0, x1, w0, w1, w2, w3, res)
}

func widen(q []int8, buf []float32) []float32 { return widenPlain(q, buf) }
