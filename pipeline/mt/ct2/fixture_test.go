package ct2

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dewire/dewire/internal/testenv"
)

func fixtureModel(t testing.TB, variant string, opts ...LoadOption) *Model {
	t.Helper()
	dir := filepath.Join(testenv.Shared(t), "fixtures", "ct2", "v2", "aren-transliteration"+variant)
	m, err := LoadDir(dir, opts...)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return m
}

func toks(s string) []string { return strings.Fields(s) }

var allComputeTypes = []ComputeType{ComputeFloat32, ComputeInt8Float32, ComputeInt8}

func TestFixtureTranslations(t *testing.T) {
	for _, ct := range allComputeTypes {
		t.Run(ct.String(), func(t *testing.T) { testFixtureTranslations(t, fixtureModel(t, "", WithCompute(ct))) })
	}
}

func testFixtureTranslations(t *testing.T, m *Model) {
	cases := []struct{ src, want string }{
		{"آ ت ز م و ن", "a t z m o n"},
		{"آ ت ش ي س و ن", "a c h i s o n"},
		{"آ ز ا", "a z z a"},
	}
	for _, beam := range []int{1, 4} {
		var src [][]string
		for _, c := range cases {
			src = append(src, toks(c.src))
		}
		got, err := m.TranslateBatch(context.Background(), src, Options{BeamSize: beam})
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cases {
			t.Run(c.want+" with beam "+string(rune('0'+beam)), func(t *testing.T) {
				if g := strings.Join(got[i].Tokens, " "); g != c.want {
					t.Errorf("got %q, want %q", g, c.want)
				}
			})
		}
	}
}

func TestFixtureQuantizedVariantsTranslateFirstRow(t *testing.T) {
	for _, variant := range []string{"", "-i8", "-i16"} {
		for _, ct := range allComputeTypes {
			t.Run("variant"+variant+" computed in "+ct.String()+" gives a t z m o n", func(t *testing.T) {
				testFirstRow(t, fixtureModel(t, variant, WithCompute(ct)))
			})
		}
	}
}

func testFirstRow(t *testing.T, m *Model) {
	for _, beam := range []int{1, 4} {
		got, err := m.TranslateBatch(context.Background(), [][]string{toks("آ ت ز م و ن")}, Options{BeamSize: beam})
		if err != nil {
			t.Fatal(err)
		}
		if g := strings.Join(got[0].Tokens, " "); g != "a t z m o n" {
			t.Errorf("beam %d: got %q", beam, g)
		}
	}
}

// The reference scores are CTranslate2's in float32. The float model
// reaches them within 1e-5 in float32 and int8_float32 (the same path for
// float weights). In int8 its weights are rounded to 8 bits and each
// layer's inputs to 129 levels, which moves these log-probabilities by up
// to 0.030; the translations themselves are the same in every compute type.
var fixtureScoreTolerance = map[ComputeType]float64{ComputeFloat32: 1e-5, ComputeInt8Float32: 1e-5, ComputeInt8: 0.05}

func TestFixtureScores(t *testing.T) {
	for _, ct := range allComputeTypes {
		t.Run(ct.String(), func(t *testing.T) {
			testFixtureScores(t, fixtureModel(t, "", WithCompute(ct)), fixtureScoreTolerance[ct])
		})
	}
}

func testFixtureScores(t *testing.T, m *Model, tol float64) {
	cases := []struct {
		src, tgt string
		scores   []float32
	}{
		{"آ ت ز م و ن", "a t z m o n", []float32{-0.106023, -0.065410, -0.056002, -0.447953, -0.230714, -0.092184, -0.063463}},
		{"آ ت ش ي س و ن", "a c h i s o n", []float32{-0.072660, -0.300309, -0.181187, -0.395671, -0.025631, -0.123466, -0.002034, -0.012639}},
		{"آ ر ب ا ك ه", "a r b a k e", []float32{-0.103136, -0.089504, -0.063889, -0.007327, -0.452072, -0.060154, -0.016636}},
		{"آ ر ث ر", "a r t h e r", []float32{-0.076704, -0.036037, -0.029253, -0.030273, -0.149276, -0.002440, -0.003742}},
	}
	var src, tgt [][]string
	for _, c := range cases {
		src = append(src, toks(c.src))
		tgt = append(tgt, toks(c.tgt))
	}
	got, err := m.ScoreBatch(context.Background(), src, tgt)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i, c := range cases {
		t.Run("scores of "+c.tgt, func(t *testing.T) {
			if len(got[i]) != len(c.scores) {
				t.Fatalf("got %d scores, want %d", len(got[i]), len(c.scores))
			}
			for j, want := range c.scores {
				d := math.Abs(float64(got[i][j] - want))
				worst = max(worst, d)
				if d > tol {
					t.Errorf("token %d: got %.6f, want %.6f", j, got[i][j], want)
				}
			}
		})
	}
	t.Logf("max abs score difference %.4g", worst)
}

func TestFixtureGreedyScoresMatchScoring(t *testing.T) {
	for _, ct := range allComputeTypes {
		t.Run(ct.String(), func(t *testing.T) {
			testGreedyScores(t, fixtureModel(t, "", WithCompute(ct)), fixtureScoreTolerance[ct])
		})
	}
}

func testGreedyScores(t *testing.T, m *Model, tol float64) {
	got, err := m.TranslateBatch(context.Background(), [][]string{toks("آ ت ز م و ن")}, Options{ReturnScores: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{-0.106023, -0.065410, -0.056002, -0.447953, -0.230714, -0.092184, -0.063463}
	if len(got[0].TokenScores) != len(want) {
		t.Fatalf("got %d scores %v", len(got[0].TokenScores), got[0].TokenScores)
	}
	for j := range want {
		if math.Abs(float64(got[0].TokenScores[j]-want[j])) > tol {
			t.Errorf("token %d: got %.6f want %.6f", j, got[0].TokenScores[j], want[j])
		}
	}
}

func TestFixtureDecodingOptions(t *testing.T) {
	for _, ct := range allComputeTypes {
		t.Run(ct.String(), func(t *testing.T) { testDecodingOptions(t, fixtureModel(t, "", WithCompute(ct))) })
	}
}

func testDecodingOptions(t *testing.T, m *Model) {
	cases := []struct {
		name string
		src  string
		opts Options
		want string
	}{
		{"target prefix a t s continues as a t s u m o n", "آ ت ز م و ن", Options{TargetPrefix: [][]string{toks("a t s")}}, "a t s u m o n"},
		{"end token m stops after a t z", "آ ت ز م و ن", Options{EndToken: "m"}, "a t z"},
		{"suppressed o and t z m give a t z u m u n", "آ ت ز م و ن", Options{SuppressSequences: [][]string{{"o"}, toks("t z m")}}, "a t z u m u n"},
		{"beam search honours the target prefix", "آ ت ز م و ن", Options{BeamSize: 4, TargetPrefix: [][]string{toks("a t s")}}, "a t s u m o n"},
		{"beam search honours suppressed sequences", "آ ت ز م و ن", Options{BeamSize: 4, SuppressSequences: [][]string{{"o"}, toks("t z m")}}, "a t z u m u n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := m.TranslateBatch(context.Background(), [][]string{toks(c.src)}, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if g := strings.Join(got[0].Tokens, " "); g != c.want {
				t.Errorf("got %q, want %q", g, c.want)
			}
		})
	}
}
