package article_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/article"
)

func sample() *article.Article {
	pub := time.Date(2021, 4, 13, 9, 30, 0, 0, time.UTC)
	de := article.Text{Title: "Alijew kündigte eine Diskussion an", Lead: "Ein Lead.", Paragraphs: []string{"Erster Absatz.", "Zweiter „Absatz“."}}
	hash := article.ContentHash(&de)
	src := article.Source{Name: "seed", URL: "https://example.org/a/1", PublishedAt: &pub, IngestedAt: pub.Add(time.Hour)}
	return &article.Article{
		Schema: article.Schema, ID: article.NewID(src, hash), Rev: 2, Hash: hash, Source: src,
		Lang: article.Lang{Code: "de", Confidence: 0.97}, DE: de,
		EN:       &article.Text{Title: "Aliyev announced a discussion", Paragraphs: []string{"First.", "Second."}},
		Segments: []article.Segment{{Para: article.ParaTitle, DE: de.Title, EN: "Aliyev announced a discussion"}, {Para: 0, DE: "Erster Absatz.", EN: "First.", FromMemory: true}},
		Entities: []article.Entity{{ID: "ilham-aliyev", Kind: "person", DE: "Ilham Alijew", EN: "Ilham Aliyev", Mentions: []article.Mention{{Field: "de.title", Offset: 0, Text: "Alijew"}}}},
		Edits:    []article.Edit{{Stage: article.StageNormalizeDE, Rule: "names.canonical", Field: "de.title", Offset: 0, Before: "Aliyev", After: "Alijew"}},
		Flags:    []article.Flag{{Stage: article.StageNormalizeDE, Code: "quote.unbalanced", Message: "m", Field: "de.paragraphs[1]", Offset: 3}},
		Engine:   &article.Engine{Name: "deepl", Model: "EN-US", Segments: 2, FromMemory: 1, Translated: 1, BilledChars: 14},
		Trace:    []article.TraceStep{{Stage: "ingest", At: pub.Add(time.Hour), Took: article.Duration(1500 * time.Microsecond)}},
	}
}

func TestRecordSurvivesAJSONRoundTrip(t *testing.T) {
	a := sample()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var back article.Article
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, &back) {
		t.Fatalf("round trip changed the record:\n got %+v\nwant %+v", back, *a)
	}
	var generic map[string]any
	_ = json.Unmarshal(b, &generic)
	for _, k := range []string{"schema", "id", "rev", "source", "lang", "de", "en", "segments", "entities", "edits", "flags", "engine", "trace"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("record JSON lacks %q", k)
		}
	}
	if generic["schema"] != "dewire.article/v1" {
		t.Errorf("schema = %v", generic["schema"])
	}
}

func TestIDs(t *testing.T) {
	de := article.Text{Title: "T", Paragraphs: []string{"P"}}
	h := article.ContentHash(&de)
	t.Run("the same GUID gives the same id whatever the URL", func(t *testing.T) {
		a := article.NewID(article.Source{GUID: "g-1", URL: "u1"}, h)
		b := article.NewID(article.Source{GUID: "g-1", URL: "u2"}, article.ContentHash(&article.Text{Title: "other"}))
		if a != b || len(a) != 32 {
			t.Fatalf("ids %q %q", a, b)
		}
	})
	t.Run("without GUID the URL decides", func(t *testing.T) {
		if article.NewID(article.Source{URL: "u1"}, h) == article.NewID(article.Source{URL: "u2"}, h) {
			t.Fatal("different URLs share an id")
		}
	})
	t.Run("without GUID or URL the content decides", func(t *testing.T) {
		if got := article.NewID(article.Source{}, h); got != h[:32] {
			t.Fatalf("id %q, want content hash prefix", got)
		}
	})
	t.Run("moving text between paragraphs changes the hash", func(t *testing.T) {
		a := article.ContentHash(&article.Text{Title: "T", Paragraphs: []string{"ab", "c"}})
		b := article.ContentHash(&article.Text{Title: "T", Paragraphs: []string{"a", "bc"}})
		if a == b {
			t.Fatal("hash ignores paragraph boundaries")
		}
	})
}

func TestRevisions(t *testing.T) {
	ctx := context.Background()
	var s article.MemoryRevisions
	step := func(hash string, wantRev int, wantDup bool) {
		t.Helper()
		rev, dup, err := s.Assign(ctx, "id", hash)
		if err != nil || rev != wantRev || dup != wantDup {
			t.Fatalf("Assign(%s) = %d, %v, %v; want %d, %v", hash, rev, dup, err, wantRev, wantDup)
		}
		if !dup {
			_ = s.Confirm(ctx, "id", rev)
		}
	}
	step("a", 1, false)
	step("a", 1, true)
	step("b", 2, false)
	step("b", 2, true)
	step("a", 3, false)

	t.Run("content assigned but never confirmed is not a duplicate", func(t *testing.T) {
		var s article.MemoryRevisions
		rev, _, _ := s.Assign(ctx, "x", "h")
		rev2, dup, _ := s.Assign(ctx, "x", "h")
		if dup || rev2 != rev {
			t.Fatalf("second assign = %d, dup %v; want same rev, not duplicate", rev2, dup)
		}
	})
}

func TestParseField(t *testing.T) {
	for _, tc := range []struct {
		in   string
		lang string
		part string
		para int
		bad  bool
	}{
		{"de.title", "de", "title", -1, false},
		{"en.lead", "en", "lead", -1, false},
		{"de.paragraphs[12]", "de", "paragraphs", 12, false},
		{"fr.title", "", "", -1, true},
		{"de.paragraphs[x]", "", "", -1, true},
		{"de.body", "", "", -1, true},
	} {
		lang, part, para, err := article.ParseField(tc.in)
		if (err != nil) != tc.bad || lang != tc.lang || part != tc.part || para != tc.para {
			t.Errorf("ParseField(%q) = %q %q %d %v", tc.in, lang, part, para, err)
		}
	}
	for _, f := range (&article.Text{Title: "t", Lead: "l", Paragraphs: []string{"a", "b"}}).Fields("de") {
		if _, _, _, err := article.ParseField(f.Name); err != nil {
			t.Errorf("Fields produced unparsable name %q", f.Name)
		}
	}
}

// took_ms reads as encoding/json reads a number of milliseconds, and what
// is not a JSON number is refused.
func TestTookReadsMillisecondsAndRefusesOtherValues(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"1.5": 1500 * time.Microsecond, "0": 0, "250": 250 * time.Millisecond, "1e3": time.Second,
		"2.5E-1": 250 * time.Microsecond, "-3": -3 * time.Millisecond, "null": 0,
	} {
		var s article.TraceStep
		if err := json.Unmarshal([]byte(`{"took_ms":`+in+`}`), &s); err != nil {
			t.Errorf("took_ms %s: %v", in, err)
			continue
		}
		if time.Duration(s.Took) != want {
			t.Errorf("took_ms %s = %v, want %v", in, time.Duration(s.Took), want)
		}
	}
	for _, in := range []string{`"5"`, `true`, `[1]`, `{}`} {
		var s article.TraceStep
		if err := json.Unmarshal([]byte(`{"took_ms":`+in+`}`), &s); err == nil {
			t.Errorf("took_ms %s read as %v, want an error", in, time.Duration(s.Took))
		}
	}
	var d article.Duration
	for _, in := range []string{"Inf", "NaN", "0x10", "+5", "1_0", ""} {
		if err := d.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("%q read as %v, want an error", in, time.Duration(d))
		}
	}
}

// Marshal writes what json.Marshal writes for the record, byte for byte.
func TestMarshalWritesWhatJSONMarshalWrites(t *testing.T) {
	a := sample()
	a.DE.Paragraphs = append(a.DE.Paragraphs, "<b>Tom & Jerry</b>\u2028„Zitat“")
	for _, rec := range []*article.Article{a, {ID: "x", Rev: 1}} {
		got, err := article.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("Marshal:\n%s\njson.Marshal:\n%s", got, want)
		}
	}
}
