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
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	for _, n := range []int{0, 1, 7, 8, 15, 16, 33, 512, 2048} {
		t.Run(fmt.Sprintf("length %d", n), func(t *testing.T) {
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
			x0, w0 := vec(n), vec(n)
			if d := float64(dot(x0, w0) - dotPlain(x0, w0)); math.Abs(d) > 1e-4*math.Sqrt(float64(n)+1) {
				t.Errorf("dot: differs by %g", d)
			}
		})
	}
	for _, cols := range []int{1, 8, 17, 64, 512} {
		for s := 1; s <= maxGroup; s++ {
			for _, scaled := range []bool{false, true} {
				w, x := vec(panelRows*cols), vec(s*cols)
				var inv, bias []float32
				if scaled {
					inv, bias = vec(panelRows), vec(panelRows)
				}
				xp := make([]float32, len(x))
				packInputs(x, s, cols, xp)
				stride := panelRows + 3
				got, want := make([]float32, s*stride), make([]float32, s*stride)
				panelKernel(w, xp, s, cols, got, stride, inv, bias, false)
				panelKernelPlain(w, xp, s, cols, want, stride, inv, bias, false)
				for i := range got {
					if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*math.Sqrt(float64(cols)+1) {
						t.Errorf("panel kernel, %d inputs of %d, output %d: got %g, want %g", s, cols, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// argmax must pick what argmaxPlain picks: the first of equal largest
// values, ignoring NaNs.
func TestArgmaxMatchesPortable(t *testing.T) {
	rng := rand.New(rand.NewSource(10))
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for trial := 0; trial < 2000; trial++ {
		n := rng.Intn(70)
		x := make([]float32, n)
		for i := range x {
			switch rng.Intn(12) {
			case 0:
				x[i] = -inf
			case 1:
				x[i] = float32(math.Copysign(0, float64(rng.Intn(2)-1)))
			case 2:
				if trial%7 == 0 {
					x[i] = nan
				}
			case 3:
				if trial%11 == 0 {
					x[i] = inf
				}
			default:
				x[i] = float32(rng.Intn(9) - 12)
			}
		}
		if got, want := argmax(x), argmaxPlain(x); got != want {
			t.Fatalf("%v: got %d, want %d", x, got, want)
		}
	}
}

// weighted must give exactly what weightedPlain gives.
func TestWeightedMatchesPortable(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for _, d := range []int{1, 5, 8, 40, 64, 100} {
		for _, n := range []int{0, 1, 3, 26} {
			const off, pad = 3, 2
			stride := d + off + pad
			p, kv := make([]float32, n), make([]float32, n*stride)
			for i := range p {
				if i%4 != 1 {
					p[i] = rng.Float32()
				}
			}
			for i := range kv {
				kv[i] = float32(rng.NormFloat64())
			}
			got, want := make([]float32, d), make([]float32, d)
			weighted(p, kv, stride, off, got)
			weightedPlain(p, kv, stride, off, want)
			for c := range got {
				if got[c] != want[c] {
					t.Fatalf("%d values of %d: output %d is %g, want %g", n, d, c, got[c], want[c])
				}
			}
		}
	}
}

// A panel taken in two runs of columns, the second carrying on from the
// sums of the first, gives exactly the result of one run over all of them.
func TestPanelKernelCarriesSums(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	for _, split := range [2]int{7, 40} {
		const cols = 67
		for s := 1; s <= maxGroup; s++ {
			w, xp := make([]float32, panelRows*cols), make([]float32, s*cols)
			for i := range w {
				w[i] = float32(rng.NormFloat64())
			}
			for i := range xp {
				xp[i] = float32(rng.NormFloat64())
			}
			inv, bias := w[:panelRows], w[panelRows:2*panelRows]
			whole, parts := make([]float32, s*panelRows), make([]float32, s*panelRows)
			panelKernel(w, xp, s, cols, whole, panelRows, inv, bias, false)
			panelKernel(w[:split*panelRows], xp[:split*s], s, split, parts, panelRows, nil, nil, false)
			panelKernel(w[split*panelRows:], xp[split*s:], s, cols-split, parts, panelRows, inv, bias, true)
			for i := range whole {
				if whole[i] != parts[i] {
					t.Fatalf("split at %d, %d inputs, output %d: %g in one run, %g in two", split, s, i, whole[i], parts[i])
				}
			}
		}
	}
}

// Groups cover the inputs in order, each of 1 to maxGroup inputs.
func TestGroupsCoverInputs(t *testing.T) {
	for n := 1; n <= 100; n++ {
		count := groupCount(n)
		if groupStart(n, count, 0) != 0 || groupStart(n, count, count) != n {
			t.Fatalf("%d inputs: groups span %d to %d", n, groupStart(n, count, 0), groupStart(n, count, count))
		}
		for g := 0; g < count; g++ {
			if s := groupStart(n, count, g+1) - groupStart(n, count, g); s < 1 || s > maxGroup {
				t.Fatalf("%d inputs: group %d has %d", n, g, s)
			}
		}
	}
}

// linear.apply over packed weights must equal the plain row-major product,
// for every batch size, with and without workers, and be independent of the batch.
func TestLinearMatchesRowMajorProduct(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	for _, shape := range [][2]int{{5, 7}, {16, 16}, {21, 33}, {48, 16}, {100, 64}, {259, 130}, {40, 2*kChunk + 19}} {
		for _, int8w := range []bool{false, true} {
			rows, cols := shape[0], shape[1]
			t.Run(fmt.Sprintf("%dx%d int8 %v", rows, cols, int8w), func(t *testing.T) {
				dense := make([]float64, rows*cols)
				l := linear{w: matrix{rows: rows, cols: cols}, bias: make([]float32, rows)}
				for i := range l.bias {
					l.bias[i] = float32(rng.NormFloat64())
				}
				if int8w {
					l.w.i8 = make([]int8, rows*cols)
					l.w.inv = make([]float32, rows)
					for r := 0; r < rows; r++ {
						l.w.inv[r] = float32(1 / (50 + rng.Float64()*100))
						for c := 0; c < cols; c++ {
							q := int8(rng.Intn(255) - 127)
							l.w.i8[r*cols+c] = q
							dense[r*cols+c] = float64(q) * float64(l.w.inv[r])
						}
					}
					packPanels(l.w.i8, rows, cols)
				} else {
					l.w.f32 = make([]float32, rows*cols)
					for i := range l.w.f32 {
						l.w.f32[i] = float32(rng.NormFloat64())
						dense[i] = float64(l.w.f32[i])
					}
					packPanels(l.w.f32, rows, cols)
				}
				for r := 0; r < rows; r++ {
					row := l.w.row(r, make([]float32, cols))
					for c, v := range row {
						if math.Abs(float64(v)-dense[r*cols+c]) > 1e-6*math.Abs(dense[r*cols+c]) {
							t.Fatalf("row %d col %d: got %g, want %g", r, c, v, dense[r*cols+c])
						}
					}
				}
				const n = 27
				x := make([]float32, n*cols)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				all := make([]float32, n*rows)
				l.apply(x, n, all, 3)
				for i := 0; i < n; i++ {
					for r := 0; r < rows; r++ {
						want := float64(l.bias[r])
						for c := 0; c < cols; c++ {
							want += float64(x[i*cols+c]) * dense[r*cols+c]
						}
						if d := math.Abs(float64(all[i*rows+r]) - want); d > 1e-4*math.Sqrt(float64(cols)) {
							t.Fatalf("input %d row %d: got %g, want %g", i, r, all[i*rows+r], want)
						}
					}
				}
				for _, k := range []int{1, 2, 4, 7} {
					part := make([]float32, k*rows)
					l.apply(x[(n-k)*cols:], k, part, 1)
					for i := range part {
						if part[i] != all[(n-k)*rows+i] {
							t.Fatalf("%d inputs: output %d is %g alone but %g in the batch", k, i, part[i], all[(n-k)*rows+i])
						}
					}
				}
			})
		}
	}
}

// BenchmarkLinear measures int8 products of the OPUS-MT feed-forward shapes
// on one goroutine, widened to float32 and in int8; ns/op over the MAC count
// gives GMAC/s.
func BenchmarkLinear(b *testing.B) {
	for _, c := range []struct{ n, rows, cols int }{{1, 2048, 512}, {25, 2048, 512}, {625, 2048, 512}, {25, 512, 2048}, {625, 512, 2048}} {
		for _, ct := range []ComputeType{ComputeInt8Float32, ComputeInt8} {
			n, rows, cols := c.n, c.rows, c.cols
			b.Run(fmt.Sprintf("%s %d inputs %dx%d", ct, n, rows, cols), func(b *testing.B) {
				rng := rand.New(rand.NewSource(1))
				l := linear{w: matrix{rows: rows, cols: cols, i8: make([]int8, rows*cols), inv: make([]float32, rows)}, bias: make([]float32, rows)}
				for i := range l.w.i8 {
					l.w.i8[i] = int8(rng.Intn(255) - 127)
				}
				for i := range l.w.inv {
					l.w.inv[i] = 0.01
				}
				if ct == ComputeInt8 {
					l.w = quantizeWeights(rows, cols, l.w.i8, l.w.inv, nil)
				} else {
					packPanels(l.w.i8, rows, cols)
				}
				x := make([]float32, n*cols)
				for i := range x {
					x[i] = float32(rng.NormFloat64())
				}
				out := make([]float32, n*rows)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					l.apply(x, n, out, 1)
				}
				b.ReportMetric(float64(n*rows*cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}

func TestExpNeg(t *testing.T) {
	for x := float32(-86.99); x <= 0; x += 0.0137 {
		want := math.Exp(float64(x))
		if got := float64(expNeg(x)); math.Abs(got-want) > 4e-7*want {
			t.Fatalf("expNeg(%g) = %g, want %g", x, got, want)
		}
	}
	if got := expNeg(0); got != 1 {
		t.Errorf("expNeg(0) = %g", got)
	}
}
