package ct2

import (
	"context"
	"fmt"
	"math"
	"testing"
)

// refModel is a deliberately plain float64 Transformer over the generator's
// weights: whole-sequence recomputation, no caches, no batching.
type refModel struct{ g *genModel }

func (r refModel) w(name string) []float64 { return r.g.ref(name) }

func (r refModel) linear(scope string, x []float64) []float64 {
	w, b := r.w(scope+"/weight"), r.w(scope+"/bias")
	in := len(x)
	out := make([]float64, len(b))
	for o := range out {
		s := b[o]
		for i := 0; i < in; i++ {
			s += w[o*in+i] * x[i]
		}
		out[o] = s
	}
	return out
}

func (r refModel) norm(scope string, x []float64) []float64 {
	gm, bt := r.w(scope+"/gamma"), r.w(scope+"/beta")
	mean, vr := 0.0, 0.0
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		vr += (v - mean) * (v - mean)
	}
	vr /= float64(len(x))
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = (v-mean)/math.Sqrt(vr+1e-5)*gm[i] + bt[i]
	}
	return out
}

func (r refModel) act(x []float64) {
	for i, v := range x {
		switch r.g.cfg.act {
		case ReLU:
			x[i] = math.Max(v, 0)
		case GELU:
			x[i] = 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
		case GELUTanh:
			x[i] = 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
		case Swish:
			x[i] = v / (1 + math.Exp(-v))
		}
	}
}

func (r refModel) embed(scope string, id, pos int) []float64 {
	d := r.g.cfg.d
	e := append([]float64(nil), r.w(scope + "/embeddings/weight")[id*d:(id+1)*d]...)
	if !r.g.cfg.noScaleEmb {
		for i := range e {
			e[i] *= math.Sqrt(float64(d))
		}
	}
	if r.g.cfg.learnedPos {
		p := r.w(scope + "/position_encodings/encodings")
		for i := range e {
			e[i] += p[pos*d+i]
		}
	} else {
		half := d / 2
		for j := 0; j < half; j++ {
			ts := math.Exp(-float64(j) * math.Log(10000) / float64(half-1))
			e[j] += math.Sin(float64(pos+1) * ts)
			e[half+j] += math.Cos(float64(pos+1) * ts)
		}
	}
	if r.g.cfg.lnEmb {
		e = r.norm(scope+"/layernorm_embedding", e)
	}
	return e
}

// mha attends queries q[i] to keys k[j] and values v[j], head by head.
func (r refModel) mha(q, k, v [][]float64) [][]float64 {
	d, heads := r.g.cfg.d, r.g.cfg.heads
	dh := d / heads
	out := make([][]float64, len(q))
	for i := range q {
		out[i] = make([]float64, d)
		for h := 0; h < heads; h++ {
			sc := make([]float64, len(k))
			mx := math.Inf(-1)
			for j := range k {
				for c := 0; c < dh; c++ {
					sc[j] += q[i][h*dh+c] * k[j][h*dh+c]
				}
				sc[j] /= math.Sqrt(float64(dh))
				mx = math.Max(mx, sc[j])
			}
			sum := 0.0
			for j := range sc {
				sc[j] = math.Exp(sc[j] - mx)
				sum += sc[j]
			}
			for j := range sc {
				for c := 0; c < dh; c++ {
					out[i][h*dh+c] += sc[j] / sum * v[j][h*dh+c]
				}
			}
		}
	}
	return out
}

// sublayer applies f around the normalization and residual the model uses.
func (r refModel) sublayer(scope string, x [][]float64, f func(h [][]float64) [][]float64) [][]float64 {
	h := x
	if !r.g.cfg.postNorm {
		h = make([][]float64, len(x))
		for i := range x {
			h[i] = r.norm(scope, x[i])
		}
	}
	o := f(h)
	out := make([][]float64, len(x))
	for i := range x {
		out[i] = make([]float64, len(x[i]))
		for c := range x[i] {
			out[i][c] = x[i][c] + o[i][c]
		}
		if r.g.cfg.postNorm {
			out[i] = r.norm(scope, out[i])
		}
	}
	return out
}

func (r refModel) ffn(scope string, x [][]float64) [][]float64 {
	return r.sublayer(scope+"/layer_norm", x, func(h [][]float64) [][]float64 {
		out := make([][]float64, len(h))
		for i := range h {
			in := r.linear(scope+"/linear_0", h[i])
			r.act(in)
			out[i] = r.linear(scope+"/linear_1", in)
		}
		return out
	})
}

func split(x []float64, parts int) [][]float64 {
	n := len(x) / parts
	out := make([][]float64, parts)
	for p := range out {
		out[p] = x[p*n : (p+1)*n]
	}
	return out
}

// logits returns the decoder logits after each prefix of the target
// (starting with <s>, id 1).
func (r refModel) logits(src, tgt []int) [][]float64 {
	cfg := r.g.cfg
	x := make([][]float64, len(src))
	for t, id := range src {
		x[t] = r.embed("encoder", id, t)
	}
	for l := 0; l < cfg.encLayers; l++ {
		s := fmt.Sprintf("encoder/layer_%d", l)
		x = r.sublayer(s+"/self_attention/layer_norm", x, func(h [][]float64) [][]float64 {
			var q, k, v [][]float64
			for i := range h {
				p := split(r.linear(s+"/self_attention/linear_0", h[i]), 3)
				q, k, v = append(q, p[0]), append(k, p[1]), append(v, p[2])
			}
			ctx := r.mha(q, k, v)
			for i := range ctx {
				ctx[i] = r.linear(s+"/self_attention/linear_1", ctx[i])
			}
			return ctx
		})
		x = r.ffn(s+"/ffn", x)
	}
	if !cfg.postNorm {
		for i := range x {
			x[i] = r.norm("encoder/layer_norm", x[i])
		}
	}
	mem := x

	in := append([]int{1}, tgt...)
	y := make([][]float64, len(in))
	for t, id := range in {
		y[t] = r.embed("decoder", id, t)
	}
	for l := 0; l < cfg.decLayers; l++ {
		s := fmt.Sprintf("decoder/layer_%d", l)
		y = r.sublayer(s+"/self_attention/layer_norm", y, func(h [][]float64) [][]float64 {
			var q, k, v [][]float64
			for i := range h {
				p := split(r.linear(s+"/self_attention/linear_0", h[i]), 3)
				q, k, v = append(q, p[0]), append(k, p[1]), append(v, p[2])
			}
			out := make([][]float64, len(h))
			for i := range h { // causal: position i sees 0..i
				out[i] = r.linear(s+"/self_attention/linear_1", r.mha(q[i:i+1], k[:i+1], v[:i+1])[0])
			}
			return out
		})
		y = r.sublayer(s+"/attention/layer_norm", y, func(h [][]float64) [][]float64 {
			var q, k, v [][]float64
			for i := range h {
				q = append(q, r.linear(s+"/attention/linear_0", h[i]))
			}
			for j := range mem {
				p := split(r.linear(s+"/attention/linear_1", mem[j]), 2)
				k, v = append(k, p[0]), append(v, p[1])
			}
			ctx := r.mha(q, k, v)
			for i := range ctx {
				ctx[i] = r.linear(s+"/attention/linear_2", ctx[i])
			}
			return ctx
		})
		y = r.ffn(s+"/ffn", y)
	}
	out := make([][]float64, len(y))
	for i := range y {
		h := y[i]
		if !cfg.postNorm {
			h = r.norm("decoder/layer_norm", h)
		}
		out[i] = r.linear("decoder/projection", h)
	}
	return out
}

// runtimeLogits runs the cached decoder step by step over the target.
func runtimeLogits(m *Model, src, tgt []int) [][]float32 {
	offs := []int{0, len(src)}
	var buf buffers
	mem := m.project(m.encode([][]int{src}, offs, &buf), offs, &buf)
	h := m.newHyp(0, len(tgt)+1)
	var out [][]float32
	for pos, tok := range append([]int{1}, tgt...) {
		logits := make([]float32, m.proj.out())
		m.step(mem, []*hyp{h}, []int{tok}, pos, &buf, logits)
		out = append(out, logits)
	}
	return out
}

var referenceVariants = []struct {
	name string
	cfg  genConfig
}{
	{"pre-norm ReLU with sinusoidal positions and separate embeddings", genConfig{}},
	{"post-norm GELU with learned positions and shared embeddings", genConfig{postNorm: true, act: GELU, learnedPos: true, shared: true}},
	{"int8 weights with GELU-tanh and shared embeddings", genConfig{int8: true, act: GELUTanh, shared: true}},
	{"binary version 3 with Swish, embedding layer norm and unscaled embeddings", genConfig{version: 3, act: Swish, lnEmb: true, noScaleEmb: true}},
}

func smallConfig(c genConfig, seed int64) genConfig {
	c.encLayers, c.decLayers, c.d, c.ff, c.heads = 2, 2, 16, 32, 4
	c.srcVocab, c.tgtVocab = 23, 29
	c.seed, c.keep = seed, true
	return c
}

// The float64 reference has no rounding of inputs to 8 bits, so it checks
// the float32 and int8_float32 compute types; the int8 products are checked
// against their own reference in kernels_int8_test.go.
func TestRuntimeAgreesWithFloat64Reference(t *testing.T) {
	for i, v := range referenceVariants {
		for _, ct := range []ComputeType{ComputeFloat32, ComputeInt8Float32} {
			t.Run(v.name+" in "+ct.String(), func(t *testing.T) { testAgreesWithReference(t, v.cfg, int64(i+1), ct) })
		}
	}
}

func testAgreesWithReference(t *testing.T, cfg genConfig, seed int64, ct ComputeType) {
	g := generate(smallConfig(cfg, seed))
	dir := t.TempDir()
	if _, err := g.save(dir); err != nil {
		t.Fatal(err)
	}
	m, err := LoadDir(dir, WithCompute(ct))
	if err != nil {
		t.Fatal(err)
	}
	src, tgt := []int{5, 9, 3, 17, 22, 4}, []int{7, 28, 11, 3, 19}
	want := refModel{g}.logits(src, tgt)
	got := runtimeLogits(m, src, tgt)
	var worst float64
	for p := range want {
		for k := range want[p] {
			worst = max(worst, math.Abs(want[p][k]-float64(got[p][k])))
		}
	}
	t.Logf("max abs logit difference %.2g", worst)
	if worst > 1e-4 {
		t.Errorf("logits differ from the float64 reference by up to %g", worst)
	}
}

func TestBatchedTranslationEqualsOneAtATime(t *testing.T) {
	sentences := [][]int{{5, 9, 3, 17, 22, 4}, {8}, {12, 12, 12, 12, 12, 12, 12, 12, 12, 12}, {3, 4, 5, 6}, {}}
	for i, v := range referenceVariants[:3] {
		for _, beam := range []int{1, 3} {
			for _, ct := range allComputeTypes {
				t.Run(fmt.Sprintf("%s, beam %d, %s", v.name, beam, ct), func(t *testing.T) {
					cfg := smallConfig(v.cfg, int64(i+10))
					cfg.keep = false
					dir := t.TempDir()
					if _, err := generate(cfg).save(dir); err != nil {
						t.Fatal(err)
					}
					m, err := LoadDir(dir, WithCompute(ct))
					if err != nil {
						t.Fatal(err)
					}
					opts := Options{BeamSize: beam, ReturnScores: true, MaxLength: 12, LengthPenalty: 1}
					batch, err := m.TranslateIDs(context.Background(), sentences, opts)
					if err != nil {
						t.Fatal(err)
					}
					for s, src := range sentences {
						one, err := m.TranslateIDs(context.Background(), [][]int{src}, opts)
						if err != nil {
							t.Fatal(err)
						}
						if fmt.Sprint(one[0].IDs) != fmt.Sprint(batch[s].IDs) || fmt.Sprint(one[0].TokenScores) != fmt.Sprint(batch[s].TokenScores) {
							t.Errorf("sentence %d: batched %v %v, alone %v %v", s, batch[s].IDs, batch[s].TokenScores, one[0].IDs, one[0].TokenScores)
						}
						if len(one[0].IDs) > 12 {
							t.Errorf("sentence %d: %d tokens exceed the maximum length", s, len(one[0].IDs))
						}
					}
				})
			}
		}
	}
}
