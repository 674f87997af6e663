package normalize_test

import (
	"bytes"
	"math/rand"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/normalize"
)

// messy applies machine-translation defects to professional German, the
// same for every run: English transliterations of names, spaces before
// punctuation, spaced and straight quotation marks, doubled marks, page
// numbers glued to the end, invisible characters inside names, credits.
func messy(lines []string) []string {
	rng := rand.New(rand.NewSource(9))
	names := strings.NewReplacer("Selenskyj", "Zelensky", "Lawrow", "Lavrov", "Peskow", "Peskov", "Kiew", "Kyiv",
		"Charkiw", "Kharkiv", "Schoigu", "Shoigu", "Alijew", "Aliyev", "Putin", "Pu\u200btin")
	out := make([]string, len(lines))
	for i, l := range lines {
		switch rng.Intn(8) {
		case 0:
			l = strings.Replace(l, ",", " ,", 1)
		case 1:
			l = strings.Replace(strings.Replace(l, "„", `" `, 1), "“", ` "`, 1)
		case 2:
			l = strings.Replace(l, "“", " “", 1)
		case 3:
			if strings.HasSuffix(l, ".") {
				l += "2477"
			}
		case 4:
			l = strings.Replace(l, "?", "??", 1)
		case 5:
			l += " Foto: dpa/Michael Kappeler"
		case 6:
			l = strings.Replace(l, "ung", "un\u00adg", 1)
		}
		out[i] = names.Replace(l)
	}
	return out
}

// lineRunner normalizes text one line at a time, each line an article of
// one paragraph, as Moses reads it. It keeps one article and clears it for
// each line, as Moses keeps one line buffer: what it measures is the
// normalizer's work, not the allocation of the article that holds the text
// (the pipeline's stages decode every message into an article of its own).
type lineRunner struct {
	a    article.Article
	para [1]string
}

func (lr *lineRunner) run(n *normalize.Normalizer, lines []string) {
	for _, l := range lines {
		lr.para[0] = l
		lr.a = article.Article{DE: article.Text{Paragraphs: lr.para[:]}}
		n.Article(&lr.a)
	}
}

// germanText is the German WMT22 text the speed benchmarks read.
func germanText(b *testing.B) []string {
	return benchLines(b)
}

// BenchmarkSpeedDE normalizes clean and messy German one line per
// paragraph, the unit Moses works in, with textfix and the full gazetteer;
// run with -cpu 1 to compare with a single-threaded Moses.
func BenchmarkSpeedDE(b *testing.B) {
	lines := germanText(b)
	for _, tc := range []struct {
		name  string
		lines []string
	}{{"clean", lines}, {"messy", messy(lines)}} {
		b.Run(tc.name, func(b *testing.B) {
			n := normalizer(b, "de")
			size := 0
			for _, l := range tc.lines {
				size += len(l) + 1
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			var lr lineRunner
			for b.Loop() {
				lr.run(n, tc.lines)
			}
		})
	}
}

// BenchmarkVersusMoses runs Moses' normalize-punctuation.perl -l de (the
// script named by DEWIRE_MOSES) on the same clean and messy text in the
// same run and reports its throughput and how many times faster the
// normalizer is ("x-moses"), each side by its fastest pass (Moses
// mosesRuns times, the normalizer b.N times). Moses is not packaged for Debian or npm, so
// without DEWIRE_MOSES the benchmark is skipped.
// mosesRuns is how many times Moses runs per case.
const mosesRuns = 5

func BenchmarkVersusMoses(b *testing.B) {
	script := os.Getenv("DEWIRE_MOSES")
	perl, err := exec.LookPath("perl")
	if script == "" || err != nil {
		b.Skip("set DEWIRE_MOSES to Moses' normalize-punctuation.perl (and have perl) to compare")
	}
	lines := germanText(b)
	for _, tc := range []struct {
		name  string
		lines []string
	}{{"clean", lines}, {"messy", messy(lines)}} {
		b.Run(tc.name, func(b *testing.B) {
			// On a shared machine each side is timed several times and its
			// fastest pass counts: the one least disturbed by other work.
			text := strings.Join(tc.lines, "\n") + "\n"
			var moses time.Duration
			for range mosesRuns {
				start := time.Now()
				cmd := exec.Command(perl, script, "-l", "de")
				cmd.Stdin = strings.NewReader(text)
				var out bytes.Buffer
				cmd.Stdout = &out
				if err := cmd.Run(); err != nil {
					b.Fatalf("moses: %v", err)
				}
				if d := time.Since(start); moses == 0 || d < moses {
					moses = d
				}
			}
			n := normalizer(b, "de")
			b.SetBytes(int64(len(text)))
			b.ResetTimer()
			var ours time.Duration
			var lr lineRunner
			for b.Loop() {
				start := time.Now()
				lr.run(n, tc.lines)
				if d := time.Since(start); ours == 0 || d < ours {
					ours = d
				}
			}
			b.ReportMetric(float64(len(text))/moses.Seconds()/1e6, "moses-MB/s")
			b.ReportMetric(float64(len(text))/ours.Seconds()/1e6, "best-MB/s")
			b.ReportMetric(moses.Seconds()/ours.Seconds(), "x-moses")
		})
	}
}
