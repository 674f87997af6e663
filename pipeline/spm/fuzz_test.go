package spm_test

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/pipeline/spm"
)

func FuzzLoad(f *testing.F) {
	f.Add(tinyModel(false))
	f.Add(tinyModel(true))
	f.Add(testModel{pieces: []testPiece{{"<unk>", 0, 2}, {"▁a", -1, 1}}, charsmap: []byte{8, 0, 0, 0, 0, 2, 0, 0, 97, 3, 0, 0, 'b', 0}}.bytes())
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x05, 0x0a, 0x03, 'a', 'b', 'c'})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := spm.Load(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, spm.ErrInvalidModel) && !errors.Is(err, spm.ErrUnsupportedModel) {
				t.Fatalf("Load error %v wraps neither sentinel", err)
			}
			return
		}
		for _, text := range []string{"die Stadt", "  Straße \u00a0ﬁ 🙂 \xff", "ab\x00c"} {
			ids := m.EncodeIDs(text)
			pieces := m.Encode(text)
			if len(ids) != len(pieces) {
				t.Fatalf("Encode gave %d pieces, EncodeIDs %d ids", len(pieces), len(ids))
			}
			_ = m.Decode(pieces)
			_ = m.DecodeIDs(ids)
		}
	})
}

// fuzzModels returns the hand-built models and, when ../shared is present,
// the real German-English vocabulary.
func fuzzModels(f *testing.F) map[string]*spm.Model {
	models := map[string]*spm.Model{
		"tiny":               mustLoad(f, tinyModel(false)),
		"tiny byte fallback": mustLoad(f, tinyModel(true)),
	}
	if _, ok := testenv.LookupShared(f); ok {
		b, err := os.ReadFile(testenv.SharedFile(f, "fixtures", "spm", "vocab.deen.spm"))
		if err != nil {
			f.Fatal(err)
		}
		models["vocab.deen.spm"] = mustLoad(f, b)
	}
	return models
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{
		"", "die Stadt Berlin", "  Straße  ", "„Zitat“ – 3½ ﬁ ＡＢＣ", "🙂 中文 \xff\xfe", "a<sep>b", "\u200b\u00ad",
		"Die Bundesregierung hat am Mittwoch beschlossen, dass …",
	} {
		f.Add(s)
	}
	models := fuzzModels(f)
	f.Fuzz(func(t *testing.T, text string) {
		for name, m := range models {
			pieces := m.Encode(text)
			ids := m.EncodeIDs(text)
			if len(pieces) != len(ids) {
				t.Fatalf("%s: %d pieces but %d ids for %q", name, len(pieces), len(ids), text)
			}
			if slices.Contains(ids, m.UnknownID()) {
				// An unknown surface may spell a control piece ("<s>") and
				// decode to nothing, as in the reference: no round trip.
				continue
			}
			norm := m.Normalize(text)
			if strings.Contains(norm, "▁▁") {
				// A literal U+2581 next to a space: the reference strips
				// every leading one when decoding, so the text does not round-trip.
				continue
			}
			want := strings.ReplaceAll(strings.TrimPrefix(norm, "▁"), "▁", " ")
			if got := m.Decode(pieces); got != want {
				t.Fatalf("%s: Decode(Encode(%q)) = %q, want normalized %q (pieces %q)", name, text, got, want, pieces)
			}
		}
	})
}
