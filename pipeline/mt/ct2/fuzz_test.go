package ct2

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/dewire/dewire/internal/testenv"
)

func TestReadModelRejectsCorruptFiles(t *testing.T) {
	var good bytes.Buffer
	cfg := smallConfig(genConfig{}, 1)
	cfg.keep = false
	if err := generate(cfg).writeModel(&good); err != nil {
		t.Fatal(err)
	}
	header := func(version uint32, count uint32) []byte {
		b := binary.LittleEndian.AppendUint32(nil, version)
		b = binary.LittleEndian.AppendUint16(b, 5)
		b = append(b, "Spec\x00"...)
		b = binary.LittleEndian.AppendUint32(b, 1)
		return binary.LittleEndian.AppendUint32(b, count)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"an empty file names the binary version", nil, "binary version"},
		{"a future binary version is refused", header(7, 0), "binary version 7"},
		{"a huge variable count is bounded by the file size", header(6, 0xffffffff), "variable count 4294967295 exceeds file size"},
		{"a truncated model names what is missing", good.Bytes()[:good.Len()/2], "exceeds file size"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadModel(bytes.NewReader(c.data), int64(len(c.data)))
			if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrFormat mentioning %q", err, c.want)
			}
		})
	}
}

func FuzzReadModel(f *testing.F) {
	for i, v := range referenceVariants {
		cfg := smallConfig(v.cfg, int64(i))
		cfg.encLayers, cfg.decLayers, cfg.d, cfg.ff, cfg.srcVocab, cfg.tgtVocab, cfg.keep = 1, 1, 8, 8, 6, 6, false
		cfg.heads = 2
		var b bytes.Buffer
		if err := generate(cfg).writeModel(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	if _, ok := testenv.LookupShared(f); ok {
		b, err := os.ReadFile(testenv.SharedFile(f, "fixtures", "ct2", "v2", "aren-transliteration-i8", "model.bin"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 4096)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadModel(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		m, err := NewModel(file, DefaultConfig(), nil, nil)
		if err != nil || len(data) > 1<<16 {
			return
		}
		m.SetWorkers(1)
		m.TranslateIDs(context.Background(), [][]int{{0, 1}, {}}, Options{MaxLength: 2, BeamSize: 2})
	})
}
