package langid_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dewire/dewire/internal/testenv"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/langid"
)

// newGate builds one gate per test binary and mode: loading the models takes
// a quarter of a second.
var gates = struct {
	sync.Mutex
	m map[bool]*langid.Gate
}{m: map[bool]*langid.Gate{}}

func newGate(t testing.TB, linguaOnly bool) *langid.Gate {
	t.Helper()
	gates.Lock()
	defer gates.Unlock()
	if g := gates.m[linguaOnly]; g != nil {
		return g
	}
	g, err := langid.New(langid.Options{LinguaOnly: linguaOnly})
	if err != nil {
		t.Fatal(err)
	}
	gates.m[linguaOnly] = g
	return g
}

// textOf splits a sample into title and paragraphs.
func textOf(s string) *article.Text {
	title, body, _ := strings.Cut(s, "\n\n")
	return &article.Text{Title: title, Paragraphs: strings.Split(body, "\n\n")}
}

func TestIsGerman(t *testing.T) {
	for _, mode := range []struct {
		name       string
		linguaOnly bool
	}{{"with the function-word profile", false}, {"with lingua alone", true}} {
		g := newGate(t, mode.linguaOnly)
		for _, s := range samples {
			t.Run(mode.name+"/"+s.name+" is "+s.lang, func(t *testing.T) {
				ok, code, conf := g.IsGerman(textOf(s.text))
				if code != s.lang {
					t.Fatalf("detected %q (%.2f), want %q", code, conf, s.lang)
				}
				if ok != (s.lang == "de") {
					t.Fatalf("IsGerman = %v with %s %.2f", ok, code, conf)
				}
				if conf < g.MinConfidence() || conf > 1 {
					t.Fatalf("confidence %.3f outside %.2f..1", conf, g.MinConfidence())
				}
			})
		}
	}
}

func TestDetectUndetermined(t *testing.T) {
	g := newGate(t, false)
	for _, tc := range []struct{ name, text string }{
		{"empty text", ""},
		{"only digits and punctuation", "12345 ... 2024-04-01 ?? !!"},
	} {
		t.Run(tc.name+" has no language", func(t *testing.T) {
			if code, conf := g.Detect(tc.text); code != "" || conf != 0 {
				t.Fatalf("Detect = %q %.2f, want none", code, conf)
			}
		})
	}
	t.Run("a nil text is not German", func(t *testing.T) {
		if ok, code, _ := g.IsGerman(nil); ok || code != "" {
			t.Fatalf("IsGerman(nil) = %v %q", ok, code)
		}
	})
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts langid.Options
	}{
		{"confidence above one", langid.Options{MinConfidence: 1.5}},
		{"negative sample size", langid.Options{SampleBytes: -1}},
	} {
		t.Run(tc.name+" is an error", func(t *testing.T) {
			if _, err := langid.New(tc.opts); err == nil {
				t.Fatal("New succeeded")
			}
		})
	}
}

func TestSampleIsBounded(t *testing.T) {
	text := &article.Text{Title: "Überschrift", Lead: "Vorspann", Paragraphs: []string{strings.Repeat("ä", 100), "nie gesehen"}}
	got := langid.Sample(text, 40)
	if len(got) > 40 || !strings.HasPrefix(got, "Überschrift\nVorspann\nää") || strings.Contains(got, "nie") {
		t.Fatalf("Sample = %q", got)
	}
}

func TestConcurrentDetect(t *testing.T) {
	g := newGate(t, false)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s := samples[i%len(samples)]
			for j := 0; j < 5; j++ {
				if _, code, _ := g.IsGerman(textOf(s.text)); code != s.lang {
					t.Errorf("%s: got %q", s.name, code)
				}
			}
		}(i)
	}
	wg.Wait()
}

func TestSeedArticleIsGerman(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.Shared(t), "seed", "article.de.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, linguaOnly := range []bool{false, true} {
		ok, code, conf := newGate(t, linguaOnly).IsGerman(textOf(string(raw)))
		if !ok {
			t.Fatalf("lingua only %v: seed article rejected as %s (%.2f)", linguaOnly, code, conf)
		}
	}
}

// TestWMTAgreesWithLingua checks the profile against lingua on real German
// news and on English references: the profile may defer, never contradict.
func TestWMTAgreesWithLingua(t *testing.T) {
	files := testenv.SharedGlob(t, filepath.Join("corpora", "wmt2*", "*"))
	fast, slow := newGate(t, false), newGate(t, true)
	for _, f := range files {
		var want string
		switch {
		case strings.HasSuffix(f, ".de"):
			want = "de"
		case strings.HasSuffix(f, ".en"):
			want = "en"
		default:
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(raw), "\n")
		// Article-sized chunks of 12 segments, 40 chunks per file.
		for i := 0; i+12 <= len(lines) && i < 12*40; i += 12 {
			chunk := strings.Join(lines[i:i+12], "\n")
			code, conf := fast.Detect(chunk)
			if code != want {
				slowCode, slowConf := slow.Detect(chunk)
				t.Errorf("%s lines %d-%d: detected %s %.2f (lingua alone: %s %.2f), want %s",
					filepath.Base(f), i+1, i+12, code, conf, slowCode, slowConf, want)
			}
		}
	}
}
