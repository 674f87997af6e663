package spm_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dewire/dewire/pipeline/spm"
)

func mustLoad(t testing.TB, b []byte) *spm.Model {
	t.Helper()
	m, err := spm.Load(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return m
}

func TestLoadRejectsBrokenModels(t *testing.T) {
	unk := testPiece{"<unk>", 0, 2}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty input", nil, spm.ErrInvalidModel},
		{"bytes that are not a protobuf", []byte("\xff\xff\xff\xff"), spm.ErrInvalidModel},
		{"a truncated model", tinyModel(false)[:40], spm.ErrInvalidModel},
		{"a model without pieces", testModel{}.bytes(), spm.ErrInvalidModel},
		{"a model without an unknown piece", testModel{pieces: []testPiece{{"a", -1, 1}}}.bytes(), spm.ErrInvalidModel},
		{"a model with two unknown pieces", testModel{pieces: []testPiece{unk, {"<unk2>", 0, 2}}}.bytes(), spm.ErrInvalidModel},
		{"a model with an empty piece", testModel{pieces: []testPiece{unk, {"", -1, 1}}}.bytes(), spm.ErrInvalidModel},
		{"a model with a duplicate piece", testModel{pieces: []testPiece{unk, {"a", -1, 1}, {"a", -2, 1}}}.bytes(), spm.ErrInvalidModel},
		{"a model with an unknown piece type", testModel{pieces: []testPiece{unk, {"a", -1, 9}}}.bytes(), spm.ErrInvalidModel},
		{"a byte piece without byte fallback", testModel{pieces: []testPiece{unk, {"<0x41>", 0, 6}}}.bytes(), spm.ErrInvalidModel},
		{"byte fallback with a missing byte piece", testModel{pieces: []testPiece{unk, {"<0x41>", 0, 6}}, byteFallback: true}.bytes(), spm.ErrInvalidModel},
		{"a malformed byte piece", testModel{pieces: []testPiece{unk, {"<0x4g>", 0, 6}}, byteFallback: true}.bytes(), spm.ErrInvalidModel},
		{"a charsmap shorter than its header", testModel{pieces: []testPiece{unk}, charsmap: []byte{1, 0}}.bytes(), spm.ErrInvalidModel},
		{"a charsmap whose trie overruns it", testModel{pieces: []testPiece{unk}, charsmap: []byte{200, 0, 0, 0, 1}}.bytes(), spm.ErrInvalidModel},
		{"a BPE model", testModel{pieces: []testPiece{unk}, modelType: 2}.bytes(), spm.ErrUnsupportedModel},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := spm.Load(bytes.NewReader(tc.data))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Load = %v, %v; want error %v", m, err, tc.want)
			}
		})
	}
}

func TestEncodeSegmentsText(t *testing.T) {
	plain := mustLoad(t, tinyModel(false))
	bytesModel := mustLoad(t, tinyModel(true))
	cases := []struct {
		name  string
		model *spm.Model
		text  string
		want  []string
	}{
		{"known words become whole pieces", plain, "die Stadt Berlin", []string{"▁die", "▁Stadt", "▁Berlin"}},
		{"extra whitespace is collapsed", plain, "  die    Stadt  ", []string{"▁die", "▁Stadt"}},
		{"a tab is not a space without a charsmap", plain, "die\tdie", []string{"▁die", "\t", "d", "i", "e"}},
		{"an unknown word splits into characters", plain, "für alle", []string{"▁für", "▁", "a", "l", "l", "e"}},
		{"unused pieces are never chosen", plain, "alt", []string{"▁", "a", "l", "t"}},
		{"an unknown character stays itself", plain, "Straße", []string{"▁St", "r", "a", "ß", "e"}},
		{"runs of unknown characters merge", plain, "Zoo", []string{"▁", "Zoo"}},
		{"control pieces in text are plain characters", plain, "<s>", []string{"▁", "<s>"}},
		{"user-defined pieces always win", plain, "die<sep>die", []string{"▁die", "<sep>", "d", "i", "e"}},
		{"byte fallback spells unknown characters as bytes", bytesModel, "Straße", []string{"▁St", "r", "a", "<0xC3>", "<0x9F>", "e"}},
		{"byte fallback does not merge unknown runs", bytesModel, "Zoo", []string{"▁", "<0x5A>", "<0x6F>", "<0x6F>"}},
		{"empty text has no pieces", plain, "", []string{}},
		{"whitespace-only text has no pieces", plain, "   ", []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.model.Encode(tc.text)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Encode(%q) = %q, want %q", tc.text, got, tc.want)
			}
			ids := tc.model.EncodeIDs(tc.text)
			if len(ids) != len(got) {
				t.Fatalf("EncodeIDs(%q) = %v, %d ids for %d pieces", tc.text, ids, len(ids), len(got))
			}
			for i, id := range ids {
				if p := tc.model.IDToPiece(id); p != got[i] && id != tc.model.UnknownID() {
					t.Errorf("id %d is piece %q, Encode gave %q", id, p, got[i])
				}
			}
		})
	}
}

func TestDecodeJoinsPieces(t *testing.T) {
	plain := mustLoad(t, tinyModel(false))
	bytesModel := mustLoad(t, tinyModel(true))
	cases := []struct {
		name   string
		model  *spm.Model
		pieces []string
		want   string
	}{
		{"the dummy prefix is stripped", plain, []string{"▁die", "▁Stadt"}, "die Stadt"},
		{"control pieces vanish", plain, []string{"<s>", "▁die", "</s>"}, "die"},
		{"the unknown piece shows as a question mark", plain, []string{"▁die", "<unk>"}, "die ⁇ "},
		{"an unknown surface is kept", plain, []string{"▁", "Zoo"}, "Zoo"},
		{"byte pieces reassemble UTF-8", bytesModel, []string{"▁St", "r", "a", "<0xC3>", "<0x9F>", "e"}, "Straße"},
		{"a stray byte becomes U+FFFD", bytesModel, []string{"<0xFF>", "a"}, "\uFFFDa"},
		{"no pieces decode to nothing", plain, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.model.Decode(tc.pieces); got != tc.want {
				t.Errorf("Decode(%q) = %q, want %q", tc.pieces, got, tc.want)
			}
			ids := make([]int, len(tc.pieces))
			for i, p := range tc.pieces {
				ids[i] = tc.model.PieceToID(p)
			}
			want := tc.want
			if tc.name == "an unknown surface is kept" {
				want = " ⁇ " // ids lose the surface
			}
			if got := tc.model.DecodeIDs(ids); got != want {
				t.Errorf("DecodeIDs(%v) = %q, want %q", ids, got, want)
			}
		})
	}
}

func TestDecodeIDsTreatsOutOfRangeAsUnknown(t *testing.T) {
	m := mustLoad(t, tinyModel(false))
	die := m.PieceToID("▁die")
	if got, want := m.DecodeIDs([]int{die, -1, 1 << 30}), "die ⁇  ⁇ "; got != want {
		t.Errorf("DecodeIDs = %q, want %q", got, want)
	}
}

func TestPieceLookups(t *testing.T) {
	m := mustLoad(t, tinyModel(true))
	if got, want := m.Size(), 25+256; got != want {
		t.Errorf("Size = %d, want %d", got, want)
	}
	for id := 0; id < m.Size(); id++ {
		if p := m.IDToPiece(id); m.PieceToID(p) != id {
			t.Errorf("PieceToID(IDToPiece(%d) = %q) = %d", id, p, m.PieceToID(p))
		}
	}
	if got := m.PieceToID("no such piece"); got != m.UnknownID() {
		t.Errorf("PieceToID of a missing piece = %d, want unknown %d", got, m.UnknownID())
	}
	if got := m.IDToPiece(m.Size()); got != "" {
		t.Errorf("IDToPiece out of range = %q, want empty", got)
	}
}

func TestModelIsSafeForConcurrentUse(t *testing.T) {
	m := mustLoad(t, tinyModel(true))
	want := strings.Join(m.Encode("die Stadt Berlin für Straße"), " ")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if got := strings.Join(m.Encode("die Stadt Berlin für Straße"), " "); got != want {
					t.Errorf("concurrent Encode = %q, want %q", got, want)
					return
				}
				_ = m.Decode(m.Encode("Zoo"))
			}
		}()
	}
	wg.Wait()
}

func ExampleModel_Encode() {
	m, err := spm.Load(bytes.NewReader(tinyModel(true)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Encode("die Stadt Straße"))
	fmt.Println(m.EncodeIDs("die Stadt"))
	// Output:
	// [▁die ▁Stadt ▁St r a <0xC3> <0x9F> e]
	// [5 6]
}

func ExampleModel_Decode() {
	m, err := spm.Load(bytes.NewReader(tinyModel(true)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Decode([]string{"▁die", "▁St", "r", "a", "<0xC3>", "<0x9F>", "e"}))
	// Output: die Straße
}
