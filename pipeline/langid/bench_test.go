package langid_test

import (
	"strings"
	"testing"
)

// article3K is a German article of about 3 KiB.
var article3K = func() string {
	var b strings.Builder
	for b.Len() < 3<<10 {
		b.WriteString(samples[0].text)
		b.WriteString("\n\n")
		b.WriteString(samples[1].text)
		b.WriteString("\n\n")
	}
	return b.String()[:3<<10]
}()

// BenchmarkDetect reports articles per second for a German article of 3 KiB
// (decided by the profile), for English (decided by lingua), and for German
// with the profile switched off.
func BenchmarkDetect(b *testing.B) {
	for _, bc := range []struct {
		name       string
		text       string
		linguaOnly bool
	}{
		{"german-3KiB", article3K, false},
		{"english", samples[2].text, false},
		{"russian", samples[3].text, false},
		{"german-3KiB-lingua-only", article3K, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			g := newGate(b, bc.linguaOnly)
			b.ResetTimer()
			b.SetBytes(int64(len(bc.text)))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					g.Detect(bc.text)
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "articles/s")
		})
	}
}
