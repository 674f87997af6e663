package spm_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dewire/dewire/internal/testenv"
)

func BenchmarkEncodeGerman(b *testing.B) {
	shared := testenv.Shared(b)
	m := loadModelFile(b, filepath.Join(shared, "fixtures", "spm", "vocab.deen.spm"))
	lines := readLines(b, filepath.Join(shared, "corpora", "wmt22", "generaltest2022.de-en.src.de"))
	var size int64
	for _, l := range lines {
		size += int64(len(l))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			_ = m.Encode(l)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	shared := testenv.Shared(b)
	data, err := os.ReadFile(filepath.Join(shared, "fixtures", "spm", "vocab.deen.spm"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		_ = mustLoad(b, data)
	}
}
