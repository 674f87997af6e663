package textfix_test

import (
	"path/filepath"
	"testing"

	"github.com/dewire/dewire/internal/testenv"

	"github.com/dewire/dewire/pipeline/textfix"
)

// benchLines is German text: the corpora when present, else the seed sentences.
func benchLines(b *testing.B) ([]string, int) {
	var lines []string
	if shared, ok := testenv.LookupShared(b); ok {
		for _, c := range corpora {
			if c.style.Lang == "de" {
				lines = append(lines, readLines(b, filepath.Join(shared, c.path))...)
			}
		}
	} else {
		for range 500 {
			lines = append(lines, fuzzSeeds...)
		}
	}
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	return lines, n
}

func BenchmarkFixDE(b *testing.B) {
	f := mustNew(b, textfix.Style{Lang: "de"})
	lines, n := benchLines(b)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			f.Fix(l)
		}
	}
}
