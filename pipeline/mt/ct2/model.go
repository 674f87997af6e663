package ct2

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
)

// Config is config.json as CTranslate2 writes it beside model.bin.
type Config struct {
	UnkToken          string   `json:"unk_token"`
	BosToken          string   `json:"bos_token"`
	EosToken          string   `json:"eos_token"`
	DecoderStartToken *string  `json:"decoder_start_token"`
	AddSourceBos      bool     `json:"add_source_bos"`
	AddSourceEos      bool     `json:"add_source_eos"`
	LayerNormEpsilon  *float64 `json:"layer_norm_epsilon"`
}

// DefaultConfig is what CTranslate2 assumes when a model has no config.json.
func DefaultConfig() Config {
	start := "<s>"
	return Config{UnkToken: "<unk>", BosToken: "<s>", EosToken: "</s>", DecoderStartToken: &start}
}

type norm struct {
	gamma, beta []float32
	eps         float32
}

func (n *norm) apply(x []float32, rows int, out []float32) {
	layerNorm(x, rows, n.gamma, n.beta, n.eps, out)
}

type attention struct {
	norm   *norm
	q      linear // cross attention: query projection
	kv     linear // cross attention: fused key and value projection of the memory
	qkv    linear // self attention: fused query, key and value projection
	out    linear
	heads  int
	scale  float32 // queries scale, 1/sqrt(head dim) unless the model says otherwise
	self   bool
	dModel int
}

type feedForward struct {
	norm  *norm
	in    linear
	noact *linear // gated linear unit, when present
	out   linear
	act   Activation
}

type encoderLayer struct {
	att attention
	ffn feedForward
}

type decoderLayer struct {
	self  attention
	cross *attention
	ffn   feedForward
}

type embedding struct {
	table   matrix
	scale   float32   // 0: none
	learned *matrix   // learned position encodings, nil for sinusoidal
	sinTS   []float32 // sinusoidal timescales, nil when positions are learned or absent
	lnEmb   *norm
}

// Model is a loaded CTranslate2 Transformer encoder-decoder, safe for
// concurrent use.
type Model struct {
	Spec          string
	Revision      int
	BinaryVersion int
	Config        Config
	Source        *Vocabulary
	Target        *Vocabulary
	Compute       ComputeType

	dModel     int
	preNormEnc bool
	preNormDec bool
	encEmb     embedding
	decEmb     embedding
	enc        []encoderLayer
	encNorm    *norm
	dec        []decoderLayer
	decNorm    *norm
	proj       linear
	workers    int
	pool       sync.Pool // *buffers
}

// SetWorkers sets how many goroutines share each matrix product (default GOMAXPROCS).
func (m *Model) SetWorkers(n int) {
	if n < 1 {
		n = 1
	}
	m.workers = n
}

// NewModel builds a runnable model from a parsed model.bin, its configuration
// and vocabularies. The model shares f's weight arrays and rearranges their
// float32 and int8 elements in place (once per File) into the layout its
// kernels read, so f's matrices are not in file order afterwards; NewModel
// must not run concurrently on the same File.
//
// The compute type (WithCompute) decides how weights are kept: see ComputeType.
func NewModel(f *File, cfg Config, src, tgt *Vocabulary, opts ...LoadOption) (*Model, error) {
	lc, err := newLoadConfig(opts)
	if err != nil {
		return nil, err
	}
	switch f.Spec {
	case "", "TransformerBase", "TransformerBig", "TransformerSpec":
	default:
		return nil, fmt.Errorf("ct2: model spec %q is not a Transformer encoder-decoder (expected TransformerSpec, TransformerBase or TransformerBig)", f.Spec)
	}
	b := builder{f: f, cfg: cfg, compute: lc.compute}
	m := &Model{Spec: f.Spec, Revision: f.Revision, BinaryVersion: f.BinaryVersion, Config: cfg, Source: src, Target: tgt, Compute: lc.compute, workers: runtime.GOMAXPROCS(0)}
	if err := b.build(m); err != nil {
		return nil, err
	}
	if src != nil && src.Len() != m.encEmb.table.rows {
		return nil, fmt.Errorf("ct2: source vocabulary has %d tokens, expected %d (encoder embeddings)", src.Len(), m.encEmb.table.rows)
	}
	if tgt != nil && tgt.Len() != m.decEmb.table.rows {
		return nil, fmt.Errorf("ct2: target vocabulary has %d tokens, expected %d (decoder embeddings)", tgt.Len(), m.decEmb.table.rows)
	}
	if tgt != nil && tgt.Len() != m.proj.out() {
		return nil, fmt.Errorf("ct2: target vocabulary has %d tokens, expected %d (output projection)", tgt.Len(), m.proj.out())
	}
	return m, nil
}

type builder struct {
	f       *File
	cfg     Config
	compute ComputeType
	done    map[*Variable]matrix
}

func (b *builder) has(name string) bool { return b.f.Lookup(name) != nil }

// attr reads an attribute of a scope; older revisions store them once at the top level.
func (b *builder) attr(scope, name string) (float64, bool) {
	v := b.f.Lookup(scope + "/" + name)
	if v == nil && b.f.Revision < 5 {
		v = b.f.Lookup(name)
	}
	if v == nil {
		return 0, false
	}
	return v.Scalar()
}

func (b *builder) flag(scope, name string, def bool) bool {
	if x, ok := b.attr(scope, name); ok {
		return x != 0
	}
	return def
}

func (b *builder) matrix(name string) (matrix, error) {
	v := b.f.Lookup(name)
	if v == nil {
		return matrix{}, fmt.Errorf("ct2: model.bin: missing variable %s", name)
	}
	if m, ok := b.done[v]; ok {
		return m, nil // an alias of a matrix already built
	}
	m, err := b.buildMatrix(name, v)
	if err != nil {
		return matrix{}, err
	}
	if b.done == nil {
		b.done = map[*Variable]matrix{}
	}
	b.done[v] = m
	return m, nil
}

func (b *builder) buildMatrix(name string, v *Variable) (matrix, error) {
	if len(v.Shape) != 2 {
		return matrix{}, fmt.Errorf("ct2: model.bin: variable %s has shape %v, expected a matrix", name, v.Shape)
	}
	m := matrix{rows: v.Shape[0], cols: v.Shape[1]}
	if n := m.rows * m.cols; (v.F32 != nil && len(v.F32) != n) || (v.I8 != nil && len(v.I8) != n) || (v.I16 != nil && len(v.I16) != n) {
		return matrix{}, fmt.Errorf("ct2: model.bin: variable %s has %d elements for shape %v", name, v.Len(), v.Shape)
	}
	// Weights take the compute type; other matrices (position encodings)
	// stay as stored unless float32 is asked for.
	quantize := b.compute == ComputeInt8 && strings.HasSuffix(name, "weight")
	if v.quads != quantize && v.I8 != nil && (v.quads || v.packed) {
		return matrix{}, fmt.Errorf("ct2: model.bin: %s was already rearranged for another compute type by an earlier NewModel", name)
	}
	var scales []float32
	if v.I8 != nil || v.I16 != nil {
		s := b.f.Lookup(name + "_scale")
		switch {
		case s != nil && s.F32 != nil && len(s.F32) == m.rows:
			scales = s.F32
		case s != nil && s.F32 != nil && len(s.F32) == 1:
			scales = make([]float32, m.rows)
			for i := range scales {
				scales[i] = s.F32[0]
			}
		case s == nil && v.I16 != nil:
			scales = make([]float32, m.rows)
			for i := range scales {
				scales[i] = 1000 // CTranslate2's global int16 scale for files without one
			}
		default:
			return matrix{}, fmt.Errorf("ct2: model.bin: %s is %s but %s_scale is missing or not float32 of %d rows", name, v.DType, name, m.rows)
		}
	}
	switch {
	case v.F32 != nil && quantize:
		if v.packed {
			return matrix{}, fmt.Errorf("ct2: model.bin: %s was already rearranged for another compute type by an earlier NewModel", name)
		}
		return quantizeWeights(m.rows, m.cols, nil, nil, v.F32), nil
	case v.F32 != nil:
		m.f32 = v.F32
		if !v.packed {
			packPanels(m.f32, m.rows, m.cols)
			v.packed = true
		}
	case v.I8 != nil && quantize:
		inv := make([]float32, m.rows)
		for i, s := range scales {
			inv[i] = 1 / s
		}
		if v.quads {
			// Rearranged by an earlier NewModel: the full panels are ready
			// and the rows after them are still in file order.
			full := m.rows / panelRows * panelRows
			t := quantizeWeights(m.rows-full, m.cols, append([]int8(nil), v.I8[full*m.cols:]...), inv[full:], nil)
			return matrix{rows: m.rows, cols: m.cols, kpad: m.cols, inv: inv, q: v.I8[:full*m.cols], qTail: t.qTail}, nil
		}
		in := v.I8
		if m.cols%4 != 0 {
			in = append([]int8(nil), v.I8...)
		} else {
			v.quads = true
		}
		return quantizeWeights(m.rows, m.cols, in, inv, nil), nil
	case v.I8 != nil && b.compute != ComputeFloat32:
		m.i8 = v.I8
		if !v.packed {
			packPanels(m.i8, m.rows, m.cols)
			v.packed = true
		}
		m.inv = make([]float32, m.rows)
		for i, s := range scales {
			m.inv[i] = 1 / s
		}
	case v.I8 != nil || v.I16 != nil:
		m.f32 = make([]float32, m.rows*m.cols)
		for r := 0; r < m.rows; r++ {
			inv := 1 / scales[r]
			for c := 0; c < m.cols; c++ {
				var q float32
				if v.I8 != nil {
					q = float32(v.I8[r*m.cols+c])
				} else {
					q = float32(v.I16[r*m.cols+c])
				}
				m.f32[r*m.cols+c] = q * inv
			}
		}
		if quantize {
			return quantizeWeights(m.rows, m.cols, nil, nil, m.f32), nil
		}
		packPanels(m.f32, m.rows, m.cols)
	default:
		return matrix{}, fmt.Errorf("ct2: model.bin: variable %s has unsupported dtype %s", name, v.DType)
	}
	return m, nil
}

func (b *builder) vector(name string, size int) ([]float32, error) {
	v := b.f.Lookup(name)
	if v == nil {
		return nil, fmt.Errorf("ct2: model.bin: missing variable %s", name)
	}
	if v.F32 == nil || len(v.F32) != size {
		return nil, fmt.Errorf("ct2: model.bin: variable %s is %s%v, expected float %d", name, v.DType, v.Shape, size)
	}
	return v.F32, nil
}

func (b *builder) linear(scope string) (linear, error) {
	w, err := b.matrix(scope + "/weight")
	if err != nil {
		return linear{}, err
	}
	l := linear{w: w}
	if b.has(scope + "/bias") {
		if l.bias, err = b.vector(scope+"/bias", w.rows); err != nil {
			return linear{}, err
		}
	}
	return l, nil
}

func (b *builder) norm(scope string, d int) (*norm, error) {
	if !b.has(scope + "/gamma") {
		return nil, nil
	}
	g, err := b.vector(scope+"/gamma", d)
	if err != nil {
		return nil, err
	}
	n := &norm{gamma: g}
	if b.has(scope + "/beta") {
		if n.beta, err = b.vector(scope+"/beta", d); err != nil {
			return nil, err
		}
	}
	switch {
	case b.cfg.LayerNormEpsilon != nil:
		n.eps = float32(*b.cfg.LayerNormEpsilon)
	case n.beta != nil:
		n.eps = 1e-5
	default:
		n.eps = 1e-6
	}
	return n, nil
}

func (b *builder) heads(scope string) int {
	if x, ok := b.attr(scope, "num_heads"); ok && x > 0 {
		return int(x)
	}
	if b.f.Spec == "TransformerBig" {
		return 16
	}
	return 8
}

func (b *builder) activation(scope string) (Activation, error) {
	x, ok := b.attr(scope, "activation")
	if !ok {
		return ReLU, nil
	}
	a := Activation(x)
	if a < ReLU || a > Tanh {
		return 0, fmt.Errorf("ct2: model.bin: %s/activation is %v, expected 0 to 5", scope, x)
	}
	return a, nil
}

func (b *builder) unsupported(scope string) error {
	for _, name := range []string{"relative_position_keys", "relative_attention_bias", "rotary_dim"} {
		if b.has(scope + "/" + name) {
			return fmt.Errorf("ct2: %s uses %s, which this runtime does not implement", scope, name)
		}
	}
	if b.flag(scope, "multi_query", false) {
		return fmt.Errorf("ct2: %s uses multi-query attention, which this runtime does not implement", scope)
	}
	return nil
}

func (b *builder) attention(scope string, heads, d int, self bool) (attention, error) {
	if err := b.unsupported(scope); err != nil {
		return attention{}, err
	}
	a := attention{heads: heads, self: self, dModel: d}
	var err error
	if a.norm, err = b.norm(scope+"/layer_norm", d); err != nil {
		return a, err
	}
	if self {
		if a.qkv, err = b.linear(scope + "/linear_0"); err != nil {
			return a, err
		}
		if a.out, err = b.linear(scope + "/linear_1"); err != nil {
			return a, err
		}
		if a.qkv.out() != 3*d || a.qkv.in() != d {
			return a, fmt.Errorf("ct2: %s/linear_0 is [%d %d], expected [%d %d]", scope, a.qkv.out(), a.qkv.in(), 3*d, d)
		}
	} else {
		if a.q, err = b.linear(scope + "/linear_0"); err != nil {
			return a, err
		}
		if a.kv, err = b.linear(scope + "/linear_1"); err != nil {
			return a, err
		}
		if a.out, err = b.linear(scope + "/linear_2"); err != nil {
			return a, err
		}
		if a.q.out() != d || a.q.in() != d || a.kv.out() != 2*d || a.kv.in() != d {
			return a, fmt.Errorf("ct2: %s projections have unexpected shapes for model width %d", scope, d)
		}
	}
	if a.out.out() != d || a.out.in() != d {
		return a, fmt.Errorf("ct2: %s output projection is [%d %d], expected [%d %d]", scope, a.out.out(), a.out.in(), d, d)
	}
	if d%heads != 0 {
		return a, fmt.Errorf("ct2: %s: model width %d is not a multiple of %d heads", scope, d, heads)
	}
	a.scale = float32(1 / math.Sqrt(float64(d/heads)))
	if x, ok := b.attr(scope, "queries_scale"); ok && b.has(scope+"/queries_scale") {
		a.scale = float32(x)
	}
	return a, nil
}

func (b *builder) ffn(scope string, d int, act Activation) (feedForward, error) {
	f := feedForward{act: act}
	var err error
	if f.norm, err = b.norm(scope+"/layer_norm", d); err != nil {
		return f, err
	}
	if f.in, err = b.linear(scope + "/linear_0"); err != nil {
		return f, err
	}
	if b.has(scope + "/linear_0_noact/weight") {
		l, err := b.linear(scope + "/linear_0_noact")
		if err != nil {
			return f, err
		}
		if l.out() != f.in.out() || l.in() != d {
			return f, fmt.Errorf("ct2: %s/linear_0_noact has unexpected shape", scope)
		}
		f.noact = &l
	}
	if f.out, err = b.linear(scope + "/linear_1"); err != nil {
		return f, err
	}
	if f.in.in() != d || f.out.out() != d || f.out.in() != f.in.out() {
		return f, fmt.Errorf("ct2: %s has unexpected shapes for model width %d", scope, d)
	}
	return f, nil
}

func (b *builder) embedding(scope string) (embedding, error) {
	var e embedding
	var err error
	if b.has(scope + "/embeddings/weight") {
		e.table, err = b.matrix(scope + "/embeddings/weight")
	} else {
		e.table, err = b.matrix(scope + "/embeddings_0/weight")
		if err == nil && b.has(scope+"/embeddings_1/weight") {
			err = fmt.Errorf("ct2: %s has several source embeddings (features), which this runtime does not implement", scope)
		}
	}
	if err != nil {
		return e, err
	}
	d := e.table.cols
	e.scale = float32(math.Sqrt(float64(d)))
	sv := b.f.Lookup(scope + "/scale_embeddings")
	if sv == nil {
		sv = b.f.Lookup(scope + "/embeddings/multiply_by_sqrt_depth")
	}
	if sv != nil {
		x, _ := sv.Scalar()
		switch {
		case sv.DType == Int8 && x != 0:
		case sv.DType != Int8 && x != 1:
			e.scale = float32(x)
		default:
			e.scale = 0
		}
	}
	if b.has(scope + "/position_encodings/encodings") {
		pm, err := b.matrix(scope + "/position_encodings/encodings")
		if err != nil {
			return e, err
		}
		if pm.cols != d || pm.rows == 0 {
			return e, fmt.Errorf("ct2: %s/position_encodings has width %d, expected %d", scope, pm.cols, d)
		}
		e.learned = &pm
	} else {
		half := d / 2
		if half < 2 {
			return e, fmt.Errorf("ct2: %s: model width %d too small for sinusoidal positions", scope, d)
		}
		inc := float32(math.Log(10000)) / float32(half-1)
		e.sinTS = make([]float32, half)
		for i := range e.sinTS {
			e.sinTS[i] = float32(math.Exp(float64(-inc * float32(i))))
		}
	}
	if e.lnEmb, err = b.norm(scope+"/layernorm_embedding", d); err != nil {
		return e, err
	}
	return e, nil
}

func (b *builder) build(m *Model) error {
	var err error
	if m.encEmb, err = b.embedding("encoder"); err != nil {
		return err
	}
	if m.decEmb, err = b.embedding("decoder"); err != nil {
		return err
	}
	d := m.encEmb.table.cols
	if m.decEmb.table.cols != d {
		return fmt.Errorf("ct2: encoder width %d differs from decoder width %d", d, m.decEmb.table.cols)
	}
	m.dModel = d
	m.preNormEnc = b.flag("encoder", "pre_norm", true)
	m.preNormDec = b.flag("decoder", "pre_norm", true)
	encAct, err := b.activation("encoder")
	if err != nil {
		return err
	}
	decAct, err := b.activation("decoder")
	if err != nil {
		return err
	}
	encHeads, decHeads := b.heads("encoder"), b.heads("decoder")
	for i := 0; b.has(fmt.Sprintf("encoder/layer_%d/ffn/linear_0/weight", i)); i++ {
		scope := fmt.Sprintf("encoder/layer_%d", i)
		var l encoderLayer
		if l.att, err = b.attention(scope+"/self_attention", encHeads, d, true); err != nil {
			return err
		}
		if l.ffn, err = b.ffn(scope+"/ffn", d, encAct); err != nil {
			return err
		}
		m.enc = append(m.enc, l)
	}
	for i := 0; b.has(fmt.Sprintf("decoder/layer_%d/ffn/linear_0/weight", i)); i++ {
		scope := fmt.Sprintf("decoder/layer_%d", i)
		var l decoderLayer
		if l.self, err = b.attention(scope+"/self_attention", decHeads, d, true); err != nil {
			return err
		}
		if b.has(scope + "/attention/linear_0/weight") {
			a, err := b.attention(scope+"/attention", decHeads, d, false)
			if err != nil {
				return err
			}
			l.cross = &a
		}
		if l.ffn, err = b.ffn(scope+"/ffn", d, decAct); err != nil {
			return err
		}
		m.dec = append(m.dec, l)
	}
	if len(m.enc) == 0 || len(m.dec) == 0 {
		return fmt.Errorf("ct2: model.bin has %d encoder and %d decoder layers, expected at least one of each", len(m.enc), len(m.dec))
	}
	for _, name := range []string{"decoder/project_in/weight", "decoder/alibi"} {
		if v := b.f.Lookup(name); v != nil {
			if x, ok := v.Scalar(); !ok || x != 0 {
				return fmt.Errorf("ct2: decoder uses %s, which this runtime does not implement", strings.TrimPrefix(name, "decoder/"))
			}
		}
	}
	if m.encNorm, err = b.norm("encoder/layer_norm", d); err != nil {
		return err
	}
	if m.decNorm, err = b.norm("decoder/layer_norm", d); err != nil {
		return err
	}
	if m.proj, err = b.linear("decoder/projection"); err != nil {
		return err
	}
	if m.proj.out() != m.decEmb.table.rows {
		return fmt.Errorf("ct2: decoder/projection has %d outputs but the decoder embeddings %d rows", m.proj.out(), m.decEmb.table.rows)
	}
	if m.proj.in() != d {
		return fmt.Errorf("ct2: decoder/projection takes %d inputs, expected %d", m.proj.in(), d)
	}
	return nil
}
