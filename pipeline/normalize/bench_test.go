package normalize_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/pipeline/article"
)

// benchLines is the German WMT22 text (all .de files) from ../shared, or,
// without it, the normalized seed article repeated to a similar size.
func benchLines(b *testing.B) []string {
	var lines []string
	if _, ok := testenv.LookupShared(b); ok {
		for _, f := range []string{
			"corpora/wmt22/generaltest2022.de-en.src.de",
			"corpora/wmt22/generaltest2022.en-de.ref.A.de",
			"corpora/wmt22/generaltest2022.en-de.ref.B.de",
		} {
			lines = append(lines, corpusLines(b, f)...)
		}
		return lines
	}
	seed, err := os.ReadFile(filepath.Join("testdata", "seed.de.golden"))
	if err != nil {
		b.Fatal(err)
	}
	for range 250 {
		lines = append(lines, strings.Split(strings.TrimSpace(string(seed)), "\n\n")...)
	}
	return lines
}

// BenchmarkNormalizeDE normalizes German news text, as articles of 20
// paragraphs, with textfix and the full gazetteer.
func BenchmarkNormalizeDE(b *testing.B) {
	lines := benchLines(b)
	var arts []article.Text
	size := 0
	for i := 0; i < len(lines); i += 20 {
		t := article.Text{Title: lines[i], Paragraphs: append([]string(nil), lines[i+1:min(i+20, len(lines))]...)}
		arts = append(arts, t)
		size += t.Len()
	}
	n := normalizer(b, "de")
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, t := range arts {
			a := &article.Article{DE: article.Text{Title: t.Title, Paragraphs: append([]string(nil), t.Paragraphs...)}}
			n.Article(a)
		}
	}
}
