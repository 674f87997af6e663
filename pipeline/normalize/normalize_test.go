package normalize_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/dewire/dewire/internal/testenv"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/normalize"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// parseLayout reads the plain-text layout: title line, then paragraphs
// separated by blank lines.
func parseLayout(s string) article.Text {
	blocks := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n")
	var t article.Text
	for i, b := range blocks {
		b = strings.TrimSpace(b)
		if i == 0 {
			t.Title = b
			continue
		}
		if b != "" {
			t.Paragraphs = append(t.Paragraphs, b)
		}
	}
	return t
}

func render(t *article.Text) string {
	return t.Title + "\n\n" + strings.Join(t.Paragraphs, "\n\n") + "\n"
}

func normalizer(t testing.TB, lang string) *normalize.Normalizer {
	t.Helper()
	n, err := normalize.New(lang)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", name, got)
	}
}

func TestSeedGerman(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.Shared(t), "seed", "article.de.txt"))
	if err != nil {
		t.Fatal(err)
	}
	a := &article.Article{DE: parseLayout(string(raw))}
	normalizer(t, "de").Article(a)
	got := render(&a.DE)
	golden(t, "seed.de.golden", got)

	for _, want := range []string{
		"Konferenz „Ein neuer Blick auf den Südkaukasus: Entwicklung und Zusammenarbeit nach Konflikten“ in Baku",
		"„Am 4. April schrieb unser Verteidigungsministerium",
		"Ilham Alijew", "Wladimir Putin", "Igor Konaschenkow", "Dmitri Peskow", "Nikol Paschinjan", "Schuscha",
	} {
		t.Run("the text contains "+want, func(t *testing.T) {
			if !strings.Contains(got, want) {
				t.Errorf("missing %q", want)
			}
		})
	}
	for _, bad := range []string{"??", ".“.", "2477", "Aliyev", "Vladimir", "Konaschenkov", "Peskov", "Dmitry", "Nikolai", "Pashinyan", "Shushi", "Shusha"} {
		t.Run("the text no longer contains "+bad, func(t *testing.T) {
			if strings.Contains(got, bad) {
				t.Errorf("still contains %q", bad)
			}
		})
	}
	t.Run("every change is recorded with the German stage and its field", func(t *testing.T) {
		for _, e := range a.Edits {
			if e.Stage != article.StageNormalizeDE || e.Field == "" || e.Rule == "" {
				t.Errorf("incomplete edit %+v", e)
			}
		}
	})
	t.Run("the entities are listed with their mentions", func(t *testing.T) {
		ids := map[string]int{}
		for _, e := range a.Entities {
			ids[e.ID] = len(e.Mentions)
		}
		for _, id := range []string{"ilham-aliyev", "vladimir-putin", "igor-konashenkov", "dmitry-peskov", "nikol-pashinyan", "shusha", "baku"} {
			if ids[id] == 0 {
				t.Errorf("entity %s missing (have %v)", id, ids)
			}
		}
	})
}

func TestSeedEnglish(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "seed.en.txt"))
	if err != nil {
		t.Fatal(err)
	}
	en := parseLayout(string(raw))
	a := &article.Article{EN: &en}
	normalizer(t, "en").Article(a)
	got := render(a.EN)
	golden(t, "seed.en.golden", got)
	for _, want := range []string{
		"Ilham Aliyev", "Vladimir Putin", "Igor Konashenkov", "Dmitry Peskov", "Nikol Pashinyan", "Shusha region",
		"at the conference “A new look at the South Caucasus: development and cooperation after conflicts” in Baku",
		"“We have a version", "an official answer,” the Azerbaijani",
	} {
		t.Run("the text contains "+want, func(t *testing.T) {
			if !strings.Contains(got, want) {
				t.Errorf("missing %q", want)
			}
		})
	}
	for _, bad := range []string{"??", "2477", "Aliev", "Alijew", "Wladimir", "Konaschenkov", "Peskow", "Nikolai", "Shushi", " ”", "“ "} {
		t.Run("the text no longer contains "+bad, func(t *testing.T) {
			if strings.Contains(got, bad) {
				t.Errorf("still contains %q", bad)
			}
		})
	}
}

// corpusLines returns the lines of a shared corpus file.
func corpusLines(t testing.TB, rel string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.Shared(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return out
}

func TestNormalizingTwiceEqualsOnce(t *testing.T) {
	for _, tc := range []struct{ lang, file string }{
		{"de", "corpora/wmt22/generaltest2022.de-en.src.de"},
		{"de", "corpora/wmt23/generaltest2023.de-en.src.de"},
		{"de", "seed/article.de.txt"},
		{"en", "corpora/wmt22/generaltest2022.en-de.src.en"},
	} {
		t.Run(tc.lang+" text of "+filepath.Base(tc.file)+" is stable after one pass", func(t *testing.T) {
			n := normalizer(t, tc.lang)
			for _, line := range corpusLines(t, tc.file) {
				once, _, _ := n.Text(line)
				twice, edits, _ := n.Text(once)
				if twice != once {
					t.Errorf("not idempotent:\nin    %q\nonce  %q\ntwice %q\n%+v", line, once, twice, edits)
				}
			}
		})
	}
}

// wordChars keeps the letters and digits of s.
func wordChars(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

func TestLettersChangeOnlyThroughRecordedEdits(t *testing.T) {
	mayChangeWords := func(rule string) bool {
		return strings.HasPrefix(rule, "names.") || strings.HasPrefix(rule, "debris.") || strings.HasPrefix(rule, "encoding.") || rule == normalize.RuleNFC
	}
	for _, tc := range []struct{ lang, file string }{
		{"de", "corpora/wmt22/generaltest2022.de-en.src.de"},
		{"de", "corpora/wmt22/generaltest2022.en-de.ref.A.de"},
		{"en", "corpora/wmt22/generaltest2022.en-de.src.en"},
	} {
		t.Run("letters and digits of "+filepath.Base(tc.file)+" change only through name, debris or encoding edits", func(t *testing.T) {
			n := normalizer(t, tc.lang)
			for _, line := range corpusLines(t, tc.file) {
				out, edits, _ := n.Text(line)
				for _, e := range edits {
					if !mayChangeWords(e.Rule) && wordChars(e.Before) != wordChars(e.After) {
						t.Errorf("%s changed letters: %q → %q", e.Rule, e.Before, e.After)
					}
				}
				if wordChars(out) != wordChars(line) {
					ok := false
					for _, e := range edits {
						ok = ok || mayChangeWords(e.Rule)
					}
					if !ok {
						t.Errorf("letters changed without a recorded edit:\n%q\n%q", line, out)
					}
				}
			}
		})
	}
}

func TestDoNoHarmOnProfessionalGerman(t *testing.T) {
	lines := corpusLines(t, "corpora/wmt22/generaltest2022.en-de.ref.A.de")
	n := normalizer(t, "de")
	var changed, byNames int
	for _, line := range lines {
		a := &article.Article{DE: article.Text{Title: line}}
		n.Article(a)
		if a.DE.Title != line {
			changed++
		}
		for _, e := range a.Edits {
			if strings.HasPrefix(e.Rule, "names.") {
				byNames++
				t.Logf("names: %s %q → %q", e.Rule, e.Before, e.After)
				break
			}
		}
	}
	t.Logf("%d lines: %d changed (%.1f per 1,000), %d by names", len(lines), changed, 1000*float64(changed)/float64(len(lines)), byNames)
	if per := 1000 * float64(byNames) / float64(len(lines)); per > 3 {
		t.Errorf("names changed %.1f lines per 1,000 of professional German", per)
	}
}

func TestArticleEditsReplayToTheResult(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "seed.en.txt"))
	if err != nil {
		t.Fatal(err)
	}
	en := parseLayout(string(raw))
	orig := parseLayout(string(raw))
	a := &article.Article{EN: &en}
	normalizer(t, "en").Article(a)
	fields := map[string]string{}
	for _, f := range orig.Fields("en") {
		fields[f.Name] = *f.Text
	}
	for _, e := range a.Edits {
		s := fields[e.Field]
		if e.Offset > len(s) || !strings.HasPrefix(s[e.Offset:], e.Before) {
			t.Fatalf("edit %+v does not apply to %q", e, s)
		}
		fields[e.Field] = s[:e.Offset] + e.After + s[e.Offset+len(e.Before):]
	}
	for _, f := range a.EN.Fields("en") {
		if fields[f.Name] != *f.Text {
			t.Errorf("%s: replay gives %q, want %q", f.Name, fields[f.Name], *f.Text)
		}
	}
}

func TestOneNormalizerServesManyGoroutines(t *testing.T) {
	n := normalizer(t, "de")
	in := "Aliyev sagte, er habe Putin gefragt “, sagte er?? Dmitry Peskov schwieg."
	want, _, _ := n.Text(in)
	done := make(chan string, 8)
	for range 8 {
		go func() {
			got, _, _ := n.Text(in)
			done <- got
		}()
	}
	for range 8 {
		if got := <-done; got != want {
			t.Errorf("concurrent result %q, want %q", got, want)
		}
	}
}

func TestArticleContextStopsWhenCancelled(t *testing.T) {
	n := normalizer(t, "de")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := &article.Article{DE: article.Text{Title: "Aliyev sagte", Paragraphs: []string{"Pashinyan sagte."}}}
	if err := n.ArticleContext(ctx, a); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if err := n.ArticleContext(context.Background(), a); err != nil || a.DE.Title != "Alijew sagte" {
		t.Fatalf("err %v, title %q", err, a.DE.Title)
	}
}

func TestFlagsPointIntoTheFinalText(t *testing.T) {
	n := normalizer(t, "de")
	// the name edit before the restored opener lengthens the text by a byte
	out, _, flags := n.Text("Pashinyan kam am Montag. Wir warten nicht länger “, sagte er.")
	want := "Paschinjan kam am Montag. „Wir warten nicht länger“, sagte er."
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	found := false
	for _, f := range flags {
		if f.Code == "quote.opening_restored" {
			found = true
			if !strings.HasPrefix(out[f.Offset:], "„Wir") {
				t.Errorf("flag points at %q, not at the restored mark", out[f.Offset:])
			}
		}
	}
	if !found {
		t.Fatalf("no opening_restored flag: %+v", flags)
	}
}
