package ct2

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"strings"
	"testing"
)

// extremeInt8 draws from [-m, m], a third of the time ±m, so that pairs of
// largest products (where 16-bit sums could saturate) are common.
func extremeInt8(rng *rand.Rand, m int) int8 {
	switch rng.Intn(6) {
	case 0:
		return int8(m)
	case 1:
		return int8(-m)
	}
	return int8(rng.Intn(2*m+1) - m)
}

// The build's int8 kernel (SIMD under GOEXPERIMENT=simd on amd64) and the
// portable one both give the exact integer dot products of the stored
// weights (w+128) with inputs in [-64, 64], carried over split runs of
// columns too.
func TestQuadKernelsGiveExactIntegerSums(t *testing.T) {
	rng := rand.New(rand.NewSource(21))
	for _, cols := range []int{4, 8, 52, 512, 2048} {
		for s := 1; s <= maxGroup; s++ {
			t.Run(fmt.Sprintf("%d inputs of %d columns", s, cols), func(t *testing.T) {
				w := make([]int8, panelRows*cols)
				for i := range w {
					w[i] = extremeInt8(rng, 127)
				}
				x := make([]int8, s*cols)
				for i := range x {
					x[i] = extremeInt8(rng, quantMax)
				}
				want := make([]int64, s*panelRows)
				for i := 0; i < s; i++ {
					for r := 0; r < panelRows; r++ {
						for c := 0; c < cols; c++ {
							want[i*panelRows+r] += int64(x[i*cols+c]) * (int64(w[r*cols+c]) + 128)
						}
					}
				}
				m := quantizeWeights(panelRows, cols, append([]int8(nil), w...), make([]float32, panelRows), nil)
				k4 := cols / 4
				xp := make([]int32, s*k4)
				packQuads(x, s, cols, xp)
				split := k4 / 3
				for name, kernel := range map[string]func([]int8, []int32, int, int, int, int, []int32, bool){"build": quadKernel, "portable": quadKernelPlain} {
					whole := make([]int32, s*panelRows)
					kernel(m.quadPanel(0), xp, s, k4, 0, k4, whole, false)
					parts := make([]int32, s*panelRows)
					for i := range parts {
						parts[i] = 12345 // overwritten: the first run does not carry
					}
					kernel(m.quadPanel(0)[:split*quadRows], xp, s, k4, 0, split, parts, false)
					kernel(m.quadPanel(0)[split*quadRows:], xp, s, k4, split, k4, parts, true)
					for i := range want {
						if int64(whole[i]) != want[i] || int64(parts[i]) != want[i] {
							t.Fatalf("%s kernel, input %d row %d: got %d (in two runs %d), want %d", name, i/panelRows, i%panelRows, whole[i], parts[i], want[i])
						}
					}
				}
			})
		}
	}
}

// refQuantize is the specification of the input quantization: scale
// max|x|/m, values rounded half away from zero.
func refQuantize(x []float32, m float64) ([]int8, float64) {
	amax := 0.0
	for _, v := range x {
		amax = math.Max(amax, math.Abs(float64(v)))
	}
	q := make([]int8, len(x))
	if amax == 0 {
		return q, 0
	}
	for i, v := range x {
		q[i] = int8(math.Round(float64(v) * m / amax))
	}
	return q, amax / m
}

func TestQuantizeRowRoundsToScaleOfLargestValueAndSumsTheResult(t *testing.T) {
	rng := rand.New(rand.NewSource(22))
	for trial := 0; trial < 200; trial++ {
		n := 1 + rng.Intn(40)
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.Intn(7)-3)))
		}
		q := make([]int8, n+3)
		for i := range q {
			q[i] = 9
		}
		s, sum := quantizeRow(x, q)
		want, ws := refQuantize(x, quantMax)
		if math.Abs(float64(s)-ws) > 1e-6*ws {
			t.Fatalf("%v: scale %g, want %g", x, s, ws)
		}
		for i := range want {
			// float32 arithmetic may round a value lying within 1e-6 of a half the other way.
			if d := int(q[i]) - int(want[i]); d != 0 && (d*d != 1 || math.Abs(math.Abs(float64(x[i])/ws-math.Trunc(float64(x[i])/ws))-0.5) > 1e-4) {
				t.Fatalf("%v: value %d quantized to %d, want %d", x, i, q[i], want[i])
			}
		}
		var wantSum int32
		for _, v := range q {
			wantSum += int32(v)
		}
		if sum != wantSum {
			t.Fatalf("%v: sum %d, want %d", x, sum, wantSum)
		}
		if q[n] != 0 || q[n+1] != 0 || q[n+2] != 0 {
			t.Fatalf("padding not zeroed: %v", q[n:])
		}
	}
	q := []int8{5, 5}
	if s, sum := quantizeRow([]float32{0, 0}, q); s != 0 || sum != 0 || q[0] != 0 || q[1] != 0 {
		t.Errorf("zero row: scale %g, values %v", s, q)
	}
}

// An int8-compute linear layer equals the float64 product of the
// dequantized quantized inputs and weights (up to float32 rounding of the
// result), and differs from the float32 product by no more than rounding
// the inputs (and, for float weights, the weights) to 8 bits can explain.
func TestInt8LinearAgreesWithDequantizedReference(t *testing.T) {
	rng := rand.New(rand.NewSource(23))
	for _, shape := range [][2]int{{5, 7}, {16, 16}, {21, 33}, {48, 16}, {100, 64}, {259, 130}, {40, 4*kQuads + 36}} {
		for _, fromFloat := range []bool{false, true} {
			rows, cols := shape[0], shape[1]
			t.Run(fmt.Sprintf("%dx%d from float %v", rows, cols, fromFloat), func(t *testing.T) {
				wq := make([]int8, rows*cols)
				inv := make([]float32, rows)
				wf := make([]float32, rows*cols)
				for r := 0; r < rows; r++ {
					inv[r] = float32(1 / (50 + rng.Float64()*100))
					for c := 0; c < cols; c++ {
						wq[r*cols+c] = extremeInt8(rng, 127)
						wf[r*cols+c] = float32(rng.NormFloat64())
					}
				}
				var l linear
				if fromFloat {
					l.w = quantizeWeights(rows, cols, nil, nil, append([]float32(nil), wf...))
				} else {
					l.w = quantizeWeights(rows, cols, append([]int8(nil), wq...), append([]float32(nil), inv...), nil)
				}
				l.bias = make([]float32, rows)
				for i := range l.bias {
					l.bias[i] = float32(rng.NormFloat64())
				}
				// The weights as the product sees them, and as they were given.
				deq, given := make([]float64, rows*cols), make([]float64, rows*cols)
				for r := 0; r < rows; r++ {
					if fromFloat {
						q, s := refQuantize(wf[r*cols:(r+1)*cols], 127)
						for c := range q {
							deq[r*cols+c] = float64(q[c]) * s
							given[r*cols+c] = float64(wf[r*cols+c])
						}
					} else {
						for c := 0; c < cols; c++ {
							deq[r*cols+c] = float64(wq[r*cols+c]) * float64(inv[r])
							given[r*cols+c] = deq[r*cols+c]
						}
					}
				}
				for r := 0; r < rows; r++ {
					row := l.w.row(r, make([]float32, cols))
					for c, v := range row {
						if math.Abs(float64(v)-deq[r*cols+c]) > 1e-6*math.Abs(deq[r*cols+c])+1e-9 {
							t.Fatalf("row %d col %d reads %g, want %g", r, c, v, deq[r*cols+c])
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
					xi := x[i*cols : (i+1)*cols]
					q, xs := refQuantize(xi, quantMax)
					for r := 0; r < rows; r++ {
						ref := float64(l.bias[r])
						exact := float64(l.bias[r])
						var bound float64
						for c := 0; c < cols; c++ {
							w := deq[r*cols+c]
							ref += float64(q[c]) * xs * w
							exact += float64(xi[c]) * given[r*cols+c]
							bound += xs / 2 * math.Abs(w)
							if fromFloat {
								bound += math.Abs(float64(xi[c])) * math.Abs(w-given[r*cols+c])
							}
						}
						got := float64(all[i*rows+r])
						if d := math.Abs(got - ref); d > 1e-5*(1+math.Abs(ref)) {
							t.Fatalf("input %d row %d: got %g, dequantized reference %g", i, r, got, ref)
						}
						if d := math.Abs(got - exact); d > bound+1e-5*(1+math.Abs(exact)) {
							t.Fatalf("input %d row %d: got %g, float product %g: off by %g, more than the quantization bound %g", i, r, got, exact, d, bound)
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

func TestParseComputeType(t *testing.T) {
	for _, c := range []struct {
		in   string
		want ComputeType
	}{{"int8", ComputeInt8}, {"int8_float32", ComputeInt8Float32}, {"float32", ComputeFloat32}, {"INT8", ComputeInt8}} {
		got, err := ParseComputeType(c.in)
		if err != nil || got != c.want {
			t.Errorf("%q: got %v, %v; want %v", c.in, got, err, c.want)
		}
		if !strings.EqualFold(got.String(), c.in) {
			t.Errorf("%v prints as %q", got, got.String())
		}
	}
	if names := ComputeTypeNames(); len(names) != 3 || names[0] != DefaultComputeType.String() {
		t.Errorf("names %v: want the three compute types, the default first", names)
	}
	for _, bad := range []string{"", "default", "int16", "float16", "int8 ", "auto"} {
		if _, err := ParseComputeType(bad); !errors.Is(err, ErrUnknownComputeType) {
			t.Errorf("%q: got %v, want ErrUnknownComputeType", bad, err)
		}
	}
}

// A File rearranged for int8 builds the same model again, but cannot be
// built for another compute type.
func TestNewModelRefusesFileRearrangedForAnotherComputeType(t *testing.T) {
	cfg := smallConfig(genConfig{int8: true, shared: true}, 3)
	cfg.keep = false
	dir := t.TempDir()
	if _, err := generate(cfg).save(dir); err != nil {
		t.Fatal(err)
	}
	f, err := readModelFS(os.DirFS(dir), "model.bin")
	if err != nil {
		t.Fatal(err)
	}
	first, err := NewModel(f, DefaultConfig(), nil, nil, WithCompute(ComputeInt8))
	if err != nil {
		t.Fatal(err)
	}
	again, err := NewModel(f, DefaultConfig(), nil, nil, WithCompute(ComputeInt8))
	if err != nil {
		t.Fatalf("same compute type again: %v", err)
	}
	src := [][]int{{5, 9, 3, 17, 22, 4}, {8, 2}}
	opts := Options{BeamSize: 2, ReturnScores: true, MaxLength: 10}
	a, err := first.TranslateIDs(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := again.TranslateIDs(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("first build %v, second %v", a, b)
	}
	if _, err := NewModel(f, DefaultConfig(), nil, nil, WithCompute(ComputeInt8Float32)); err == nil {
		t.Fatal("int8_float32 over int8-rearranged weights: no error")
	}
	if _, err := NewModel(f, DefaultConfig(), nil, nil, WithCompute(ComputeType(9))); !errors.Is(err, ErrUnknownComputeType) {
		t.Fatalf("compute type 9: %v", err)
	}
}

// dequantize (SIMD under GOEXPERIMENT=simd on amd64) gives exactly what
// dequantizePlain gives, with and without a bias, for full and short panels.
func TestDequantizeMatchesPortable(t *testing.T) {
	rng := rand.New(rand.NewSource(24))
	for _, nr := range []int{panelRows, 5} {
		for _, withBias := range []bool{false, true} {
			const m, stride = 7, 21
			acc, comp := make([]int32, m*panelRows), make([]int32, m)
			xs, inv := make([]float32, m), make([]float32, nr)
			for i := range acc {
				acc[i] = rng.Int31n(1<<24) - 1<<23
			}
			for j := range comp {
				comp[j] = rng.Int31n(1<<14) - 1<<13
				xs[j] = rng.Float32()
			}
			for r := range inv {
				inv[r] = rng.Float32() / 100
			}
			var bias []float32
			if withBias {
				bias = make([]float32, nr)
				for r := range bias {
					bias[r] = float32(rng.NormFloat64())
				}
			}
			got, want := make([]float32, m*stride), make([]float32, m*stride)
			dequantize(acc, comp, xs, inv, bias, got, stride)
			dequantizePlain(acc, comp, xs, inv, bias, want, stride)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%d rows, bias %v: output %d is %g, want %g", nr, withBias, i, got[i], want[i])
				}
			}
		}
	}
}

// quantizeRow (SIMD under GOEXPERIMENT=simd on amd64) gives exactly what
// quantizeRowPlain gives: values, scale and sum, halves and NaN included.
func TestQuantizeRowMatchesPortable(t *testing.T) {
	rng := rand.New(rand.NewSource(25))
	for trial := 0; trial < 500; trial++ {
		n := rng.Intn(70)
		x := make([]float32, n)
		for i := range x {
			switch rng.Intn(10) {
			case 0:
				x[i] = float32(rng.Intn(129)-64) / 2 // halves when max|x| is 32
			case 1:
				x[i] = float32(math.Copysign(0, float64(rng.Intn(2)-1)))
			default:
				x[i] = float32(rng.NormFloat64())
			}
		}
		if n > 0 && trial%5 == 0 {
			x[rng.Intn(n)] = 32
		}
		if n > 0 && trial%50 == 7 {
			x[rng.Intn(n)] = float32(math.NaN())
		}
		got, want := make([]int8, n+5), make([]int8, n+5)
		for i := range got {
			got[i], want[i] = 3, 3
		}
		gs, gsum := quantizeRow(x, got)
		ws, wsum := quantizeRowPlain(x, want)
		if gs != ws || gsum != wsum || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%v: got %v %g %d, want %v %g %d", x, got, gs, gsum, want, ws, wsum)
		}
	}
}
