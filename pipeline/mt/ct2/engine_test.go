package ct2

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dewire/dewire/internal/testenv"

	"github.com/dewire/dewire/pipeline/mt"
)

func TestEngineTranslatesFixtureWithSpaceSeparatedTokens(t *testing.T) {
	dir := filepath.Join(testenv.Shared(t), "fixtures", "ct2", "v2", "aren-transliteration")
	e, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if e.Name() != "ct2" || e.Model() != "aren-transliteration (int8)" || e.Limits().MaxSegments != 32 {
		t.Errorf("got name %q model %q limits %+v", e.Name(), e.Model(), e.Limits())
	}
	res, err := e.Translate(context.Background(), mt.Request{SourceLang: "ar", TargetLang: "en", Segments: []string{"آ ت ز م و ن", "آ ز ا"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(res.Translations, "|"); got != "a t z m o n|a z z a" {
		t.Errorf("got %q", got)
	}
}

// upperTokenizer stands in for SentencePiece: pieces are words, joined by spaces.
type upperTokenizer struct{}

func (upperTokenizer) Encode(s string) []string { return strings.Fields(s) }
func (upperTokenizer) Decode(pieces []string) string {
	return strings.ToUpper(strings.Join(pieces, " "))
}

func TestEngineOpensAPackageLayoutWithItsTokenizer(t *testing.T) {
	cfg := smallConfig(genConfig{}, 3)
	cfg.keep = false
	dir := t.TempDir()
	if _, err := generate(cfg).save(dir); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"sentencepiece.model": {Data: []byte("spm")}}
	for _, name := range []string{"model.bin", "source_vocabulary.txt", "target_vocabulary.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		fsys["model/"+name] = &fstest.MapFile{Data: b}
	}
	t.Run("without a loader the tokenizer model is an error", func(t *testing.T) {
		if _, err := OpenFS(fsys); err == nil {
			t.Fatal("want an error")
		}
	})
	t.Run("with a loader the engine tokenizes and detokenizes", func(t *testing.T) {
		var loaded []byte
		e, err := OpenFS(fsys, WithModelName("de-en"), WithTokenizerLoader(func(r io.Reader) (Tokenizer, error) {
			loaded, _ = io.ReadAll(r)
			return upperTokenizer{}, nil
		}), WithDecoding(Options{MaxLength: 5}))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(loaded, []byte("spm")) || e.Model() != "de-en (int8)" {
			t.Fatalf("loader read %q, model %q", loaded, e.Model())
		}
		res, err := e.Translate(context.Background(), mt.Request{Segments: []string{"s5 s6 s7", "s9"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range res.Translations {
			if tr == "" || tr != strings.ToUpper(tr) {
				t.Errorf("translation %q was not detokenized by the tokenizer", tr)
			}
		}
	})
	t.Run("too many segments is a permanent error", func(t *testing.T) {
		e, err := OpenFS(fsys, WithTokenizer(upperTokenizer{}), WithMaxSegments(1))
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Translate(context.Background(), mt.Request{Segments: []string{"a", "b"}})
		if !errors.Is(err, mt.ErrPermanent) {
			t.Fatalf("got %v", err)
		}
	})
}

// The compute type is part of the model's name, so that the translation
// memory keeps translations made with different arithmetic apart and a
// record says how its English was computed.
func TestEngineModelNamesItsComputeType(t *testing.T) {
	dir := filepath.Join(testenv.Shared(t), "fixtures", "ct2", "v2", "aren-transliteration")
	seen := map[string]bool{}
	for _, c := range []ComputeType{ComputeInt8, ComputeInt8Float32, ComputeFloat32} {
		e, err := Open(dir, WithComputeType(c))
		if err != nil {
			t.Fatal(err)
		}
		if want := "aren-transliteration (" + c.String() + ")"; e.Model() != want {
			t.Errorf("compute type %s: model %q, want %q", c, e.Model(), want)
		}
		if mt.MemoryKey(e.Name(), e.Model(), "آ ز ا") == mt.MemoryKey("ct2", "aren-transliteration", "آ ز ا") || seen[e.Model()] {
			t.Errorf("compute type %s shares its memory key with another", c)
		}
		seen[e.Model()] = true
	}
}
