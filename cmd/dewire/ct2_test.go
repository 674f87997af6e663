package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/pipeline/article"
)

func TestTranslateWithTheEmbeddedEngineOnTheFixtureModel(t *testing.T) {
	for _, ct := range []string{"", "int8", "int8_float32", "float32"} {
		t.Run("compute type "+ct, func(t *testing.T) { testTranslateFixture(t, ct) })
	}
}

func testTranslateFixture(t *testing.T, computeType string) {
	model := testenv.SharedFile(t, "fixtures", "ct2", "v2", "aren-transliteration")
	in := "آ ت ز م و ن\n\nآ ت ش ي س و ن\n\nآ ز ا\n"
	args := []string{"translate", "--log-level", "error", "--engine", "ct2", "--model", model, "-"}
	if computeType != "" {
		args = append(args, "--compute-type", computeType)
	}
	code, stdout, stderr := dewire(t, context.Background(), in, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var a article.Article
	if err := json.Unmarshal([]byte(stdout), &a); err != nil {
		t.Fatal(err)
	}
	got := []string{a.EN.Title}
	got = append(got, a.EN.Paragraphs...)
	want := []string{"a t z m o n", "a c h i s o n", "a z z a"} // CTranslate2's own outputs for this model
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("translations %q, want %q", got, want)
	}
	if a.Engine == nil || a.Engine.Name != "ct2" || a.Engine.Translated != 3 {
		t.Fatalf("engine %+v", a.Engine)
	}
}

// TestRealModelSmoke translates a German sentence with a real de→en model
// (a CTranslate2 folder or an .argosmodel) named by DEWIRE_CT2_MODEL.
func TestRealModelSmoke(t *testing.T) {
	model := os.Getenv("DEWIRE_CT2_MODEL")
	if model == "" {
		t.Skip("set DEWIRE_CT2_MODEL to a de→en CTranslate2 model folder or .argosmodel file to run this")
	}
	in := "Der Präsident sprach in Baku\n\nDer Präsident sagte am Montag, die Gespräche würden fortgesetzt.\n"
	code, stdout, stderr := dewire(t, context.Background(), in, "translate", "--log-level", "error", "--engine", "ct2", "--model", model, "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var a article.Article
	if err := json.Unmarshal([]byte(stdout), &a); err != nil {
		t.Fatal(err)
	}
	en := strings.ToLower(a.EN.Title + " " + strings.Join(a.EN.Paragraphs, " "))
	for _, w := range []string{"president", "baku"} {
		if !strings.Contains(en, w) {
			t.Errorf("translation %q lacks %q", en, w)
		}
	}
	t.Logf("%s", en)
}
