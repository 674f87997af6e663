package ct2

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unsafe"
)

// genConfig describes a randomly initialised Transformer written in the real
// model.bin format, for reference tests and benchmarks.
type genConfig struct {
	version              int // binary version: 3 (item sizes) or 6 (type ids)
	encLayers, decLayers int
	d, ff, heads         int
	srcVocab, tgtVocab   int
	postNorm             bool
	act                  Activation
	learnedPos           bool
	maxPos               int
	shared               bool // decoder projection aliases the decoder embeddings
	int8                 bool
	lnEmb                bool
	noScaleEmb           bool
	seed                 int64
	keep                 bool // keep float64 copies for the reference implementation
}

// genVar is a variable to write plus, when kept, the exact values the
// runtime should see (dequantized).
type genVar struct {
	name  string
	shape []int
	dtype DType
	data  []byte
	ref   []float64
}

type genModel struct {
	cfg     genConfig
	vars    map[string]*genVar
	aliases map[string]string
}

func (g *genModel) ref(name string) []float64 {
	if a, ok := g.aliases[name]; ok {
		name = a
	}
	v := g.vars[name]
	if v == nil {
		panic("no variable " + name)
	}
	return v.ref
}

func generate(cfg genConfig) *genModel {
	if cfg.version == 0 {
		cfg.version = 6
	}
	if cfg.maxPos == 0 {
		cfg.maxPos = 256
	}
	g := &genModel{cfg: cfg, vars: map[string]*genVar{}, aliases: map[string]string{}}
	rng := rand.New(rand.NewSource(cfg.seed))
	weight := func(name string, rows, cols int, std float64) {
		if cfg.int8 {
			q := make([]byte, rows*cols)
			scale := make([]float32, rows)
			var ref []float64
			if cfg.keep {
				ref = make([]float64, rows*cols)
			}
			row := make([]float64, cols)
			for r := 0; r < rows; r++ {
				amax := 0.0
				for c := range row {
					row[c] = rng.NormFloat64() * std
					amax = max(amax, math.Abs(row[c]))
				}
				s := float32(127 / amax)
				scale[r] = s
				for c, v := range row {
					qi := int8(math.RoundToEven(v * float64(s)))
					q[r*cols+c] = byte(qi)
					if ref != nil {
						ref[r*cols+c] = float64(qi) / float64(s)
					}
				}
			}
			g.vars[name] = &genVar{name: name, shape: []int{rows, cols}, dtype: Int8, data: q, ref: ref}
			g.vars[name+"_scale"] = &genVar{name: name + "_scale", shape: []int{rows}, dtype: Float32, data: f32bytes(scale)}
			return
		}
		g.floats(name, []int{rows, cols}, rng, std, 0)
	}
	vector := func(name string, n int, std, mean float64) { g.floats(name, []int{n}, rng, std, mean) }
	lnorm := func(scope string) {
		vector(scope+"/gamma", cfg.d, 0.1, 1)
		vector(scope+"/beta", cfg.d, 0.1, 0)
	}
	lin := func(scope string, out, in int) {
		weight(scope+"/weight", out, in, 1/math.Sqrt(float64(in)))
		vector(scope+"/bias", out, 0.05, 0)
	}
	attrs := func(scope string) {
		g.scalar(scope+"/num_heads", Int16, float64(cfg.heads))
		g.scalar(scope+"/pre_norm", Int8, b2f(!cfg.postNorm))
		g.scalar(scope+"/activation", Int8, float64(cfg.act))
		g.scalar(scope+"/scale_embeddings", Int8, b2f(!cfg.noScaleEmb))
		if cfg.learnedPos {
			g.floats(scope+"/position_encodings/encodings", []int{cfg.maxPos, cfg.d}, rng, 0.5, 0)
		}
		if cfg.lnEmb {
			lnorm(scope + "/layernorm_embedding")
		}
		if !cfg.postNorm {
			lnorm(scope + "/layer_norm")
		}
	}
	d := cfg.d
	attrs("encoder")
	g.scalar("encoder/embeddings_merge", Int8, 0)
	weight("encoder/embeddings/weight", cfg.srcVocab, d, 0.5)
	for i := 0; i < cfg.encLayers; i++ {
		s := fmt.Sprintf("encoder/layer_%d", i)
		lnorm(s + "/self_attention/layer_norm")
		lin(s+"/self_attention/linear_0", 3*d, d)
		lin(s+"/self_attention/linear_1", d, d)
		lnorm(s + "/ffn/layer_norm")
		lin(s+"/ffn/linear_0", cfg.ff, d)
		lin(s+"/ffn/linear_1", d, cfg.ff)
	}
	attrs("decoder")
	g.scalar("decoder/alignment_layer", Int16, -1)
	g.scalar("decoder/alignment_heads", Int16, 1)
	weight("decoder/embeddings/weight", cfg.tgtVocab, d, 0.5)
	for i := 0; i < cfg.decLayers; i++ {
		s := fmt.Sprintf("decoder/layer_%d", i)
		lnorm(s + "/self_attention/layer_norm")
		lin(s+"/self_attention/linear_0", 3*d, d)
		lin(s+"/self_attention/linear_1", d, d)
		lnorm(s + "/attention/layer_norm")
		lin(s+"/attention/linear_0", d, d)
		lin(s+"/attention/linear_1", 2*d, d)
		lin(s+"/attention/linear_2", d, d)
		lnorm(s + "/ffn/layer_norm")
		lin(s+"/ffn/linear_0", cfg.ff, d)
		lin(s+"/ffn/linear_1", d, cfg.ff)
	}
	if cfg.shared {
		g.aliases["decoder/projection/weight"] = "decoder/embeddings/weight"
	} else {
		weight("decoder/projection/weight", cfg.tgtVocab, d, 1/math.Sqrt(float64(d)))
	}
	vector("decoder/projection/bias", cfg.tgtVocab, 0.05, 0)
	return g
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (g *genModel) floats(name string, shape []int, rng *rand.Rand, std, mean float64) {
	n := 1
	for _, s := range shape {
		n *= s
	}
	f := make([]float32, n)
	var ref []float64
	if g.cfg.keep {
		ref = make([]float64, n)
	}
	for i := range f {
		f[i] = float32(mean + rng.NormFloat64()*std)
		if ref != nil {
			ref[i] = float64(f[i])
		}
	}
	g.vars[name] = &genVar{name: name, shape: shape, dtype: Float32, data: f32bytes(f), ref: ref}
}

func (g *genModel) scalar(name string, dt DType, v float64) {
	var b []byte
	switch dt {
	case Int8:
		b = []byte{byte(int8(v))}
	case Int16:
		b = binary.LittleEndian.AppendUint16(nil, uint16(int16(v)))
	case Float32:
		b = binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(v)))
	}
	g.vars[name] = &genVar{name: name, dtype: dt, data: b, ref: []float64{v}}
}

func f32bytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))...)
}

// writeModel serializes the variables the way CTranslate2's model_spec.py does.
func (g *genModel) writeModel(w io.Writer) error {
	bw := bufio.NewWriter(w)
	str := func(s string) {
		binary.Write(bw, binary.LittleEndian, uint16(len(s)+1))
		bw.WriteString(s)
		bw.WriteByte(0)
	}
	u32 := func(v uint32) { binary.Write(bw, binary.LittleEndian, v) }
	u32(uint32(g.cfg.version))
	str("TransformerSpec")
	u32(7)
	names := make([]string, 0, len(g.vars))
	for n := range g.vars {
		names = append(names, n)
	}
	sort.Strings(names)
	u32(uint32(len(names)))
	for _, n := range names {
		v := g.vars[n]
		str(n)
		bw.WriteByte(byte(len(v.shape)))
		for _, s := range v.shape {
			u32(uint32(s))
		}
		if g.cfg.version >= 4 {
			bw.WriteByte(byte(v.dtype))
			u32(uint32(len(v.data)))
		} else {
			bw.WriteByte(byte(v.dtype.Size()))
			u32(uint32(len(v.data) / v.dtype.Size()))
		}
		bw.Write(v.data)
	}
	aliases := make([]string, 0, len(g.aliases))
	for a := range g.aliases {
		aliases = append(aliases, a)
	}
	sort.Strings(aliases)
	u32(uint32(len(aliases)))
	for _, a := range aliases {
		str(a)
		str(g.aliases[a])
	}
	return bw.Flush()
}

// vocab returns n tokens with the special tokens first.
func genVocab(n int, prefix string) []string {
	v := []string{"<unk>", "<s>", "</s>"}
	for i := len(v); i < n; i++ {
		v = append(v, fmt.Sprintf("%s%d", prefix, i))
	}
	return v
}

// save writes model.bin and vocabularies into dir and returns the model.bin size.
func (g *genModel) save(dir string) (int64, error) {
	f, err := os.Create(filepath.Join(dir, "model.bin"))
	if err != nil {
		return 0, err
	}
	if err := g.writeModel(f); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	write := func(name string, toks []string) error {
		return os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(toks, "\n")+"\n"), 0o644)
	}
	if err := write("source_vocabulary.txt", genVocab(g.cfg.srcVocab, "s")); err != nil {
		return 0, err
	}
	if err := write("target_vocabulary.txt", genVocab(g.cfg.tgtVocab, "t")); err != nil {
		return 0, err
	}
	st, err := os.Stat(filepath.Join(dir, "model.bin"))
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
