package ct2

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// The build's kernels (SIMD under GOEXPERIMENT=simd on amd64) must agree with the portable ones.
func TestKernelsAgreeWithPortableKernels(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, n := range []int{0, 1, 7, 8, 15, 16, 33, 512, 2048} {
		t.Run(fmt.Sprintf("length %d", n), func(t *testing.T) {
			vec := func() []float32 {
				v := make([]float32, n)
				for i := range v {
					v[i] = float32(rng.NormFloat64())
				}
				return v
			}
			x0, x1, w0, w1, w2, w3 := vec(), vec(), vec(), vec(), vec(), vec()
			var got, want [8]float32
			dot2x4(x0, x1, w0, w1, w2, w3, &got)
			dot2x4Plain(x0, x1, w0, w1, w2, w3, &want)
			for i := range got {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*math.Sqrt(float64(n)+1) {
					t.Errorf("dot %d: got %g, want %g", i, got[i], want[i])
				}
			}
			q := make([]int8, n)
			for i := range q {
				q[i] = int8(rng.Intn(256) - 128)
			}
			a, b := widen(q, make([]float32, n)), widenPlain(q, make([]float32, n))
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("widen %d: got %g, want %g", i, a[i], b[i])
				}
			}
			if d := float64(dot(x0, w0) - dotPlain(x0, w0)); math.Abs(d) > 1e-4*math.Sqrt(float64(n)+1) {
				t.Errorf("dot: differs by %g", d)
			}
		})
	}
}
