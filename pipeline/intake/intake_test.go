package intake_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dewire/dewire/internal/testenv"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/pipeline/langid"
)

var clock = func() time.Time { return time.Date(2021, 4, 13, 12, 0, 0, 0, time.UTC) }

const german = `Aliyev fordert Antwort aus Moskau

Der aserbaidschanische Präsident Ilham Aliyev hat am Dienstag erneut eine Erklärung des russischen Verteidigungsministeriums gefordert.

„Wir warten noch immer auf eine offizielle Antwort “, sagte er auf einer Konferenz in Baku.
`

// readAll runs a Reader over input and collects the items.
func readAll(t testing.TB, r *intake.Reader, input string, o intake.Origin) []intake.Item {
	t.Helper()
	var items []intake.Item
	err := r.Read(context.Background(), strings.NewReader(input), o, func(it intake.Item) error {
		items = append(items, it)
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return items
}

func one(t testing.TB, r *intake.Reader, input string, o intake.Origin) intake.Item {
	t.Helper()
	items := readAll(t, r, input, o)
	if len(items) != 1 {
		t.Fatalf("got %d items, want 1", len(items))
	}
	return items[0]
}

func TestPlainArticle(t *testing.T) {
	r := &intake.Reader{Now: clock}
	for _, tc := range []struct{ name, input string }{
		{"LF line breaks", german},
		{"CRLF line breaks and a BOM", "\uFEFF" + strings.ReplaceAll(german, "\n", "\r\n")},
	} {
		t.Run("an article with "+tc.name+" is accepted", func(t *testing.T) {
			it := one(t, r, tc.input, intake.Origin{Path: "feeds/Trend News/a.txt"})
			a := it.Article
			if a == nil {
				t.Fatalf("rejected: %+v", it.Reject.Reject)
			}
			if a.DE.Title != "Aliyev fordert Antwort aus Moskau" || len(a.DE.Paragraphs) != 2 {
				t.Fatalf("text = %+v", a.DE)
			}
			if a.Schema != article.Schema || a.Rev != 0 || a.Source.Name != "trend-news" ||
				a.Source.Path != "feeds/Trend News/a.txt" || !a.Source.IngestedAt.Equal(clock()) {
				t.Fatalf("record = %+v", a)
			}
			if a.Hash != article.ContentHash(&a.DE) || a.ID != article.NewID(a.Source, a.Hash) {
				t.Fatalf("id %s hash %s not derived from the content", a.ID, a.Hash)
			}
		})
	}
	t.Run("lines inside a paragraph are joined with a space", func(t *testing.T) {
		it := one(t, r, "Titel\n\nerste Zeile\n  zweite Zeile  \n\n\n\ndritter Absatz\n", intake.Origin{Format: intake.Plain})
		want := []string{"erste Zeile zweite Zeile", "dritter Absatz"}
		if got := it.Article.DE.Paragraphs; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("paragraphs = %q, want %q", got, want)
		}
	})
}

func TestJSONArticle(t *testing.T) {
	r := &intake.Reader{Now: clock}
	t.Run("a JSON object with all fields is accepted", func(t *testing.T) {
		in := `{"title": "Paschinjan in Brüssel", "lead": "Gespräche über Frieden",
			"paragraphs": ["Der armenische Premierminister ist eingetroffen.", "", "Er trifft Michel."],
			"url": "https://example.org/a/1", "guid": "trend-123", "source": "Trend",
			"published_at": "2021-04-13T09:30:00+02:00", "extra": 1}`
		a := one(t, r, in, intake.Origin{Path: "x.json"}).Article
		if a == nil {
			t.Fatal("rejected")
		}
		if a.DE.Lead != "Gespräche über Frieden" || len(a.DE.Paragraphs) != 2 || a.Source.Name != "trend" ||
			a.Source.GUID != "trend-123" || a.Source.URL != "https://example.org/a/1" ||
			a.Source.PublishedAt == nil || !a.Source.PublishedAt.Equal(time.Date(2021, 4, 13, 7, 30, 0, 0, time.UTC)) {
			t.Fatalf("record = %+v", a)
		}
		if a.ID != article.NewID(article.Source{GUID: "trend-123"}, "") {
			t.Fatalf("id %s is not the GUID's", a.ID)
		}
	})
	t.Run("a body string is split at blank lines", func(t *testing.T) {
		a := one(t, r, `{"title":"T","body":"eins\nzwei\n\ndrei","published_at":"13.04.2021"}`, intake.Origin{Format: intake.JSON}).Article
		if a == nil || strings.Join(a.DE.Paragraphs, "|") != "eins zwei|drei" || a.Source.PublishedAt.Day() != 13 {
			t.Fatalf("record = %+v", a)
		}
	})
	t.Run("a pretty-printed object on stdin is sniffed as JSON", func(t *testing.T) {
		it := one(t, r, "{\n  \"title\": \"T\",\n  \"text\": \"Absatz\"\n}\n", intake.Origin{Path: "-"})
		if it.Article == nil || it.Article.Source.Name != "stdin" || it.Line != 0 {
			t.Fatalf("item = %+v", it)
		}
	})
}

func TestJSONLines(t *testing.T) {
	r := &intake.Reader{Now: clock}
	in := `{"title":"Eins","paragraphs":["a"],"guid":"1"}

{"title":"Zwei","paragraphs":["b"],"guid":"2"}
{"title":"Drei", broken
{"title":"Vier","paragraphs":"nicht als Liste"}
{"title":"Fünf","paragraphs":["e"],"guid":"5"}
`
	for _, o := range []intake.Origin{{Path: "feed.jsonl"}, {Path: "feed.ndjson"}, {Path: "-"}} {
		t.Run("lines of "+o.Path+" are items of their own", func(t *testing.T) {
			items := readAll(t, r, in, o)
			if len(items) != 5 {
				t.Fatalf("got %d items, want 5", len(items))
			}
			wantLines := []int{1, 3, 4, 5, 6}
			for i, it := range items {
				if it.Line != wantLines[i] {
					t.Errorf("item %d from line %d, want %d", i, it.Line, wantLines[i])
				}
			}
			if items[2].Reject == nil || items[2].Reject.Reject.Code != intake.CodeBadJSON ||
				!strings.HasPrefix(items[2].Reject.Reject.Reason, "line 4: ") {
				t.Errorf("line 4: %+v", items[2].Reject)
			}
			if items[3].Reject == nil || items[3].Reject.Reject.Code != intake.CodeBadField {
				t.Errorf("line 5: %+v", items[3])
			}
			if items[4].Article == nil || items[4].Article.DE.Title != "Fünf" {
				t.Errorf("line 6: %+v", items[4])
			}
		})
	}
}

func TestRejections(t *testing.T) {
	small := intake.Limits{MaxBytes: 200, MaxParagraphs: 3, MaxTitle: 20}
	for _, tc := range []struct {
		name   string
		input  string
		format intake.Format
		lim    intake.Limits
		code   string
		reason string // substring of the reason
	}{
		{"an empty file is input.empty", "", intake.Plain, intake.Limits{}, intake.CodeEmpty, "no title"},
		{"a file of blank lines is input.empty", " \n\r\n\t\n", intake.Plain, intake.Limits{}, intake.CodeEmpty, ""},
		{"an empty JSON object is input.empty", `{}`, intake.JSON, intake.Limits{}, intake.CodeEmpty, ""},
		{"a file over the byte limit is input.too_large", "T\n\n" + strings.Repeat("x", 300), intake.Plain, small, intake.CodeTooLarge, "303 bytes"},
		{"a JSONL line over the byte limit is input.too_large", `{"title":"` + strings.Repeat("x", 300) + `"}`, intake.JSONL, small, intake.CodeTooLarge, "line 1 is 312 bytes"},
		{"a long title is input.too_large", strings.Repeat("Titel ", 5) + "\n\nA\n", intake.Plain, small, intake.CodeTooLarge, "title is 29 bytes"},
		{"too many paragraphs is input.too_many_paragraphs", "T\n\na\n\nb\n\nc\n\nd\n", intake.Plain, small, intake.CodeTooManyParagraphs, "4 paragraphs"},
		{"Latin-1 bytes are input.invalid_utf8 with the offset", "Titel\n\nGr\xfc\xdfe\n", intake.Plain, intake.Limits{}, intake.CodeInvalidUTF8, "at byte 9"},
		{"invalid UTF-8 in JSON is input.invalid_utf8", `{"title":"Gr` + "\xfc" + `"}`, intake.JSON, intake.Limits{}, intake.CodeInvalidUTF8, "at byte 12"},
		{"a NUL byte is input.control_chars", "Titel\n\nText\x00mehr\n", intake.Plain, intake.Limits{}, intake.CodeControlChars, "U+0000 at byte 11"},
		{"a C1 control is input.control_chars", "Titel\n\nText\u0085\n", intake.Plain, intake.Limits{}, intake.CodeControlChars, "U+0085"},
		{"an escaped control in JSON is input.control_chars", `{"title":"T","paragraphs":["a\u0007b"]}`, intake.JSON, intake.Limits{}, intake.CodeControlChars, `"paragraphs"[0]: control character U+0007 at byte 1`},
		{"broken JSON is input.bad_json with its line", "{\n\"title\": \"T\",\n\"lead\" \"x\"\n}", intake.JSON, intake.Limits{}, intake.CodeBadJSON, "line 3"},
		{"a JSON array is input.bad_json", `[{"title":"T"}]`, intake.JSON, intake.Limits{}, intake.CodeBadJSON, "want a JSON object"},
		{"trailing data after the object is input.bad_json", `{"title":"T"} {"title":"U"}`, intake.JSON, intake.Limits{}, intake.CodeBadJSON, "after top-level value"},
		{"a numeric title is input.bad_field", `{"title":5}`, intake.JSON, intake.Limits{}, intake.CodeBadField, `"title": want a string, got a number`},
		{"paragraphs of numbers are input.bad_field", `{"title":"T","paragraphs":[1,2]}`, intake.JSON, intake.Limits{}, intake.CodeBadField, `"paragraphs"[0]`},
		{"an unreadable date is input.bad_field", `{"title":"T","published_at":"gestern"}`, intake.JSON, intake.Limits{}, intake.CodeBadField, "published_at"},
		{"both paragraphs and body is input.bad_field", `{"title":"T","paragraphs":["a"],"body":"b"}`, intake.JSON, intake.Limits{}, intake.CodeBadField, "only one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &intake.Reader{Limits: tc.lim, Now: clock}
			it := one(t, r, tc.input, intake.Origin{Name: "test", Format: tc.format})
			if it.Article != nil || it.Reject == nil {
				t.Fatalf("accepted: %+v", it.Article)
			}
			rej := it.Reject
			if rej.Reject.Code != tc.code || !strings.Contains(rej.Reject.Reason, tc.reason) {
				t.Fatalf("reject = %s %q, want %s containing %q", rej.Reject.Code, rej.Reject.Reason, tc.code, tc.reason)
			}
			if rej.Schema != article.Schema || rej.ID == "" || rej.Hash == "" || rej.Source.Name != "test" || len(rej.Reject.Raw) > intake.MaxRaw {
				t.Fatalf("record = %+v", rej)
			}
			again := one(t, r, tc.input, intake.Origin{Name: "test", Format: tc.format})
			if again.Reject.ID != rej.ID {
				t.Fatalf("id changed between runs: %s, %s", rej.ID, again.Reject.ID)
			}
		})
	}
}

func TestLanguageRejections(t *testing.T) {
	gate, err := langid.New(langid.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := &intake.Reader{Gate: gate, Now: clock}
	for _, tc := range []struct {
		name, input, code, lang string
	}{
		{"a German article is accepted", german, "", "de"},
		{"an English article is lang.not_german", "Aliyev demands answer from Moscow\n\nAzerbaijan's president said on Tuesday that the Russian defence ministry had still not replied to the letter his government sent two weeks ago, and that he expected an official answer soon.\n", intake.CodeNotGerman, "en"},
		{"a Russian article is lang.not_german", "Алиев потребовал ответа от Москвы\n\nПрезидент Азербайджана заявил во вторник, что министерство обороны России до сих пор не ответило на письмо, направленное две недели назад.\n", intake.CodeNotGerman, "ru"},
		{"a title of digits is lang.undetermined", "2021-04-13 12:00\n\n1234 5678\n", intake.CodeUndetermined, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := one(t, r, tc.input, intake.Origin{Format: intake.Plain})
			if tc.code == "" {
				if it.Article == nil || it.Article.Lang.Code != "de" || it.Article.Lang.Confidence < gate.MinConfidence() {
					t.Fatalf("item = %+v %+v", it.Article, it.Reject)
				}
				return
			}
			rej := it.Reject
			if rej == nil || rej.Reject.Code != tc.code || rej.Lang.Code != tc.lang {
				t.Fatalf("item = %+v %+v", it.Article, rej)
			}
			if tc.lang != "" && !strings.Contains(rej.Reject.Reason, "detected language "+tc.lang) {
				t.Fatalf("reason %q does not name the language", rej.Reject.Reason)
			}
			if len(rej.DE.Paragraphs) == 0 || rej.ID != article.NewID(rej.Source, article.ContentHash(&rej.DE)) {
				t.Fatalf("rejection lost the text or its id: %+v", rej)
			}
		})
	}
}

func TestIDs(t *testing.T) {
	r := &intake.Reader{Now: clock}
	idOf := func(in string) string {
		it := one(t, r, in, intake.Origin{Format: intake.JSON})
		if it.Article == nil {
			t.Fatalf("rejected: %+v", it.Reject.Reject)
		}
		return it.Article.ID
	}
	t.Run("the same GUID gives the same id whatever the content", func(t *testing.T) {
		if idOf(`{"guid":"g1","title":"A"}`) != idOf(`{"guid":"g1","title":"B","url":"https://x"}`) {
			t.Fatal("ids differ")
		}
	})
	t.Run("without GUID the URL decides", func(t *testing.T) {
		if idOf(`{"url":"https://x/1","title":"A"}`) != idOf(`{"url":"https://x/1","title":"B"}`) {
			t.Fatal("ids differ")
		}
	})
	t.Run("without GUID or URL the content decides", func(t *testing.T) {
		a, b, c := idOf(`{"title":"A","paragraphs":["x"]}`), idOf(`{"title":"A","body":"x"}`), idOf(`{"title":"B"}`)
		if a != b || a == c || len(a) != 32 {
			t.Fatalf("ids %s %s %s", a, b, c)
		}
	})
}

func TestPlainRoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, input string }{
		{"a simple article", german},
		{"hard-wrapped CRLF paragraphs", "\r\n Titel \r\n\r\nzeile eins\r\nzeile zwei\r\n\r\n\r\nletzter"},
		{"a title alone", "Nur ein Titel"},
	} {
		t.Run(tc.name+" survives FormatPlain", func(t *testing.T) {
			first := intake.ParsePlain(tc.input)
			text := intake.FormatPlain(&first)
			second := intake.ParsePlain(text)
			if first.Title != second.Title || strings.Join(first.Paragraphs, "\x00") != strings.Join(second.Paragraphs, "\x00") {
				t.Fatalf("%+v became %+v", first, second)
			}
			if again := intake.FormatPlain(&second); again != text {
				t.Fatalf("FormatPlain is not stable: %q, %q", text, again)
			}
		})
	}
}

func TestSourceName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Trend News", "trend-news"},
		{"  Süddeutsche Zeitung!! ", "sueddeutsche-zeitung"},
		{"a.b>c*d", "a-b-c-d"},
		{"***", "unknown"},
		{"tass_ru-2", "tass_ru-2"},
		{strings.Repeat("x", 100), strings.Repeat("x", 64)},
	} {
		t.Run(tc.in+" becomes "+tc.want, func(t *testing.T) {
			if got := intake.SourceName(tc.in); got != tc.want {
				t.Fatalf("got %q", got)
			}
		})
	}
	for _, tc := range []struct{ path, want string }{
		{"", "stdin"}, {"-", "stdin"}, {"feeds/apa/1.txt", "apa"}, {"Meldung 1.txt", "meldung-1"},
	} {
		t.Run("the path "+tc.path+" names the source "+tc.want, func(t *testing.T) {
			if got := intake.DefaultSourceName(tc.path); got != tc.want {
				t.Fatalf("got %q", got)
			}
		})
	}
}

func TestReadStopsOnEmitError(t *testing.T) {
	boom := errors.New("bus down")
	err := intake.Read(context.Background(), strings.NewReader("{\"title\":\"a\"}\n{\"title\":\"b\"}\n"),
		intake.Origin{Format: intake.JSONL}, intake.Limits{}, clock, func(intake.Item) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = intake.Read(ctx, strings.NewReader(german), intake.Origin{}, intake.Limits{}, clock, func(intake.Item) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

var sharedGate = sync.OnceValues(func() (*langid.Gate, error) { return langid.New(langid.Options{}) })

func TestSeedArticle(t *testing.T) {
	path := testenv.SharedFile(t, "seed", "article.de.txt")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gate, err := sharedGate()
	if err != nil {
		t.Fatal(err)
	}
	r := &intake.Reader{Gate: gate, Now: clock}
	a := one(t, r, string(raw), intake.Origin{Path: path}).Article
	if a == nil {
		t.Fatal("seed article rejected")
	}
	if a.Lang.Code != "de" || a.Source.Name != "seed" || len(a.DE.Paragraphs) != 7 ||
		!strings.HasPrefix(a.DE.Title, "Aliyev kündigte") {
		t.Fatalf("record: lang %+v source %+v, %d paragraphs", a.Lang, a.Source, len(a.DE.Paragraphs))
	}
	if got := intake.FormatPlain(&a.DE); got != strings.ReplaceAll(string(raw), "\r\n", "\n") && got != string(raw)+"\n" {
		t.Errorf("FormatPlain does not reproduce the seed's layout")
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(german), uint8(0))
	f.Add([]byte(`{"title":"T","paragraphs":["a","b"],"published_at":"2021-04-13"}`), uint8(2))
	f.Add([]byte("{\"title\":\"a\"}\n\n{bad\n{\"body\":\"x\\n\\ny\"}"), uint8(3))
	f.Add([]byte("\xef\xbb\xbfT\r\n\r\nA\x00"), uint8(1))
	r := &intake.Reader{Limits: intake.Limits{MaxBytes: 4 << 10, MaxParagraphs: 20, MaxTitle: 200}, Now: clock}
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		fm := intake.Format(format % 4)
		n := 0
		err := r.Read(context.Background(), bytes.NewReader(data), intake.Origin{Format: fm}, func(it intake.Item) error {
			n++
			if (it.Article == nil) == (it.Reject == nil) {
				t.Fatalf("item has %v article, %v reject", it.Article != nil, it.Reject != nil)
			}
			if a := it.Article; a != nil {
				for _, s := range append([]string{a.DE.Title, a.DE.Lead, a.Source.URL, a.Source.GUID, a.Source.Name}, a.DE.Paragraphs...) {
					if !utf8.ValidString(s) {
						t.Fatalf("accepted invalid UTF-8 %q", s)
					}
				}
				if a.ID == "" || a.Reject != nil {
					t.Fatalf("accepted record %+v", a)
				}
			} else if it.Reject.Reject == nil || it.Reject.Reject.Code == "" || len(it.Reject.Reject.Raw) > intake.MaxRaw {
				t.Fatalf("rejection %+v", it.Reject)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if fm == intake.Plain || fm == intake.JSON {
			if n != 1 {
				t.Fatalf("%d items from one %v input", n, fm)
			}
		}
		if fm == intake.JSONL {
			want := 0
			for i, line := range bytes.Split(data, []byte("\n")) {
				if i == 0 {
					line = bytes.TrimPrefix(line, []byte("\uFEFF"))
				}
				if len(bytes.Trim(line, " \t\r")) > 0 {
					want++
				}
			}
			if n != want {
				t.Fatalf("%d items from %d non-blank lines", n, want)
			}
		}
	})
}

func FuzzParsePlain(f *testing.F) {
	f.Add(german)
	f.Add("\r\n T \r\n\r\na\rb\n\n\nc")
	f.Fuzz(func(t *testing.T, s string) {
		first := intake.ParsePlain(s)
		second := intake.ParsePlain(intake.FormatPlain(&first))
		if first.Title != second.Title || strings.Join(first.Paragraphs, "\x00") != strings.Join(second.Paragraphs, "\x00") {
			t.Fatalf("%q: %+v became %+v", s, first, second)
		}
	})
}

// TestBundledExamples reads examples/articles the way `dewire run` does: the
// German articles are accepted, the three marked "rejected" are not.
func TestBundledExamples(t *testing.T) {
	dir := filepath.Join(testenv.Root(t), "examples", "articles")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	gate, err := sharedGate()
	if err != nil {
		t.Fatal(err)
	}
	r := &intake.Reader{Gate: gate, Now: clock}
	want := map[string]string{
		"90-english-wire-rejected.txt": intake.CodeNotGerman,
		"91-russian-wire-rejected.txt": intake.CodeNotGerman,
		"92-empty-rejected.txt":        intake.CodeEmpty,
	}
	accepted := 0
	for _, e := range entries {
		t.Run(e.Name(), func(t *testing.T) {
			path := filepath.Join(dir, e.Name())
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range readAll(t, r, string(raw), intake.Origin{Path: path}) {
				switch {
				case want[e.Name()] != "":
					if it.Reject == nil || it.Reject.Reject.Code != want[e.Name()] {
						t.Errorf("want rejection %s, got %+v", want[e.Name()], it)
					}
				case it.Reject != nil:
					t.Errorf("line %d rejected: %s", it.Line, it.Reject.Reject.Reason)
				default:
					accepted++
					if it.Article.Source.Name != "articles" && it.Article.Source.Name != "beispiel-agentur" {
						t.Errorf("source %q", it.Article.Source.Name)
					}
				}
			}
		})
	}
	if accepted != 10 {
		t.Errorf("%d articles accepted, want 10", accepted)
	}
}

func BenchmarkRead(b *testing.B) {
	gate, err := sharedGate()
	if err != nil {
		b.Fatal(err)
	}
	var in strings.Builder
	for in.Len() < 3<<10 {
		in.WriteString(german)
	}
	input := in.String()
	r := &intake.Reader{Gate: gate, Now: clock}
	b.SetBytes(int64(len(input)))
	b.ResetTimer()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := r.Read(context.Background(), strings.NewReader(input), intake.Origin{Format: intake.Plain}, func(it intake.Item) error {
				if it.Article == nil {
					b.Fatal("rejected")
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "articles/s")
}
