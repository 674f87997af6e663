package segment_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/dewire/dewire/internal/testenv"

	"github.com/dewire/dewire/pipeline/segment"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		lang string
		text string
		want []string
	}{
		{"two plain sentences split", "de", "Das ist gut. Das ist schlecht.", []string{"Das ist gut.", "Das ist schlecht."}},
		{"z. B. does not end a sentence", "de", "Es gibt z. B. Äpfel. Und Birnen.", []string{"Es gibt z. B. Äpfel.", "Und Birnen."}},
		{"Nr. and Dr. do not end a sentence", "de", "Haus Nr. 5 gehört Dr. Müller. Er wohnt dort.", []string{"Haus Nr. 5 gehört Dr. Müller.", "Er wohnt dort."}},
		{"u. a., bzw., ca., Prof., St. do not end a sentence", "de", "Gäste waren u. a. Prof. Schmidt bzw. ca. Zehn aus St. Gallen. Ende.", []string{"Gäste waren u. a. Prof. Schmidt bzw. ca. Zehn aus St. Gallen.", "Ende."}},
		{"a date with a month stays together", "de", "Er sagte am 1. April in Baku etwas. Am 4. April schrieb er.", []string{"Er sagte am 1. April in Baku etwas.", "Am 4. April schrieb er."}},
		{"a century ordinal stays together", "de", "Im 13. Jahrhundert entstand die Stadt.", []string{"Im 13. Jahrhundert entstand die Stadt."}},
		{"a numeric date stays together", "de", "Am 1.4.2021 war es kalt. Dann taute es.", []string{"Am 1.4.2021 war es kalt.", "Dann taute es."}},
		{"a number before a sentence starter ends the sentence", "de", "Es waren 20. Die Polizei kam.", []string{"Es waren 20.", "Die Polizei kam."}},
		{"a year ends the sentence", "de", "Das war 2020. Im Jahr darauf nicht.", []string{"Das war 2020.", "Im Jahr darauf nicht."}},
		{"decimals stay together", "de", "Das Wachstum lag bei 3,5 Prozent, in den USA bei 3.5 Prozent. Gut.", []string{"Das Wachstum lag bei 3,5 Prozent, in den USA bei 3.5 Prozent.", "Gut."}},
		{"a quotation with attribution stays together", "de", "„Wir warten. Jetzt“, sagte er. Dann ging er.", []string{"„Wir warten. Jetzt“, sagte er.", "Dann ging er."}},
		{"a closing quote never starts a sentence", "de", "Wir warten. “, sagte er.", []string{"Wir warten. “, sagte er."}},
		{"a quotation ending a sentence splits after the mark", "de", "„Schnee fiel.“ Dann schmolz er.", []string{"„Schnee fiel.“", "Dann schmolz er."}},
		{"guillemets work like low-high quotes", "de", "»Das reicht. Wirklich«, rief sie. Alle lachten.", []string{"»Das reicht. Wirklich«, rief sie.", "Alle lachten."}},
		{"a headline without punctuation is one span", "de", "Aliyev kündigte eine Diskussion an", []string{"Aliyev kündigte eine Diskussion an"}},
		{"a headline line splits from the body", "de", "Neue Regeln\nDie Regierung hat entschieden.", []string{"Neue Regeln", "Die Regierung hat entschieden."}},
		{"an ellipsis before a capital ends the sentence", "de", "Und dann… Niemand kam.", []string{"Und dann…", "Niemand kam."}},
		{"an ellipsis before lowercase continues", "de", "Er wartete ... und wartete. Ende.", []string{"Er wartete ... und wartete.", "Ende."}},
		{"three dots before a capital end the sentence", "de", "Er wartete... Niemand kam.", []string{"Er wartete...", "Niemand kam."}},
		{"question and exclamation marks end sentences", "de", "Wirklich?! Ja. Nein!", []string{"Wirklich?!", "Ja.", "Nein!"}},
		{"doubled question marks end one sentence", "de", "Woher wussten sie das?? Dann sagte er nichts.", []string{"Woher wussten sie das??", "Dann sagte er nichts."}},
		{"English titles do not end sentences", "en", "Mr. Smith met Mrs. Jones. They talked.", []string{"Mr. Smith met Mrs. Jones.", "They talked."}},
		{"U.S. e.g. and i.e. do not end sentences", "en", "The U.S. Army, e.g. General Smith, i.e. Its chief, spoke. Then it rained.", []string{"The U.S. Army, e.g. General Smith, i.e. Its chief, spoke.", "Then it rained."}},
		{"English quotation with attribution stays together", "en", "“We wait. Now,” he said. Then he left.", []string{"“We wait. Now,” he said.", "Then he left."}},
		{"English numbers end sentences", "en", "He was 20. The police came.", []string{"He was 20.", "The police came."}},
		{"whitespace only gives no spans", "de", "  \n ", nil},
		{"surrounding whitespace is not part of a span", "de", "  Eins. Zwei.  ", []string{"Eins.", "Zwei."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spans := segment.Split(tt.lang, tt.text)
			var got []string
			for _, s := range spans {
				got = append(got, s.Text)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Errorf("Split(%q)\n got %q\nwant %q", tt.text, got, tt.want)
			}
			checkCover(t, tt.text, spans)
		})
	}
}

// checkCover asserts that spans are ordered, trimmed, exact, and that only
// whitespace lies outside them.
func checkCover(t *testing.T, text string, spans []segment.Span) {
	t.Helper()
	prev := 0
	for _, s := range spans {
		if s.Start < prev || s.End <= s.Start || s.End > len(text) {
			t.Fatalf("span %+v out of order or empty (prev end %d, len %d)", s, prev, len(text))
		}
		if text[s.Start:s.End] != s.Text {
			t.Fatalf("span %+v does not match text %q", s, text[s.Start:s.End])
		}
		if strings.TrimSpace(text[prev:s.Start]) != "" {
			t.Fatalf("text between spans is not whitespace: %q", text[prev:s.Start])
		}
		if strings.TrimFunc(s.Text, unicode.IsSpace) != s.Text {
			t.Fatalf("span %q is not trimmed", s.Text)
		}
		prev = s.End
	}
	if strings.TrimSpace(text[prev:]) != "" {
		t.Fatalf("text after the last span is not whitespace: %q", text[prev:])
	}
}

var dateRE = regexp.MustCompile(`\b\d{1,2}\. (Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember|Jahrhundert|Jahrtausend)\b`)

func TestCorpusDatesStayTogether(t *testing.T) {
	files := testenv.SharedGlob(t, filepath.Join("corpora", "wmt2*", "*.de"))
	var lines, sentences, multi, dates int
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			spans := segment.Split("de", line)
			lines++
			sentences += len(spans)
			if len(spans) > 1 {
				multi++
			}
			for _, m := range dateRE.FindAllStringIndex(line, -1) {
				dates++
				dot := strings.Index(line[m[0]:m[1]], ".") + m[0]
				for _, s := range spans {
					if s.End == dot+1 {
						t.Errorf("%s: split inside date %q: %q", filepath.Base(f), line[m[0]:m[1]], line)
					}
				}
			}
		}
		fh.Close()
	}
	t.Logf("corpus: %d lines, %d sentences (%.2f per line), %d lines with several sentences, %d dates/ordinals kept whole",
		lines, sentences, float64(sentences)/float64(max(lines, 1)), multi, dates)
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{"Das ist gut. Das ist schlecht.", "„Wir warten. Jetzt“, sagte er.", "am 1. April", "a…b... C", "U.S. e.g. x", "\n\n", "\"\" “ ”. . „"} {
		f.Add("de", s)
		f.Add("en", s)
	}
	f.Fuzz(func(t *testing.T, lang, text string) {
		spans := segment.Split(lang, text)
		prev := 0
		for _, s := range spans {
			if s.Start < prev || s.End <= s.Start || s.End > len(text) || text[s.Start:s.End] != s.Text {
				t.Fatalf("bad span %+v (prev %d) in %q", s, prev, text)
			}
			if strings.TrimSpace(text[prev:s.Start]) != "" {
				t.Fatalf("non-space gap %q in %q", text[prev:s.Start], text)
			}
			prev = s.End
		}
		if strings.TrimSpace(text[prev:]) != "" {
			t.Fatalf("uncovered tail %q in %q", text[prev:], text)
		}
	})
}

func BenchmarkSplit(b *testing.B) {
	text := strings.Repeat("Der Präsident sagte am 1. April, er habe u. a. mit Dr. Müller gesprochen. „Wir warten. Jetzt“, sagte er. Das Wachstum lag bei 3,5 Prozent. ", 20)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		segment.Split("de", text)
	}
}
