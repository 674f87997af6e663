package normalize_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/pipeline/normalize"
)

func TestBatchWritesOneRecordPerJSONLine(t *testing.T) {
	in := `{"title":"Aliyev trifft Putin","paragraphs":["Aliyev sagte, er warte auf eine Antwort."]}
{"title":"Pashinyan reist nach Moskau","paragraphs":["Foto: dpa/AFP","Paschinjan traf Peskov."]}
`
	var out bytes.Buffer
	b := &normalize.Batch{Normalizer: normalizer(t, "de"), JSON: true}
	if err := b.Run(context.Background(), strings.NewReader(in), intake.Origin{Path: "in.jsonl"}, &out); err != nil {
		t.Fatal(err)
	}
	var recs []article.Article
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var a article.Article
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		recs = append(recs, a)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2:\n%s", len(recs), out.String())
	}
	if recs[0].DE.Title != "Alijew trifft Putin" || recs[1].DE.Paragraphs[1] != "Paschinjan traf Peskow." || recs[1].DE.Paragraphs[0] != "" {
		t.Errorf("records not normalized: %+v", recs)
	}
	if len(recs[1].Edits) == 0 || recs[1].Edits[0].Rule != "debris.strip" || recs[1].Edits[0].Before != "Foto: dpa/AFP" {
		t.Errorf("the debris removal is not in the record: %+v", recs[1].Edits)
	}
}

func TestBatchAcceptsThousandsOfParagraphsByDefault(t *testing.T) {
	var doc strings.Builder
	doc.WriteString("Ein langes Dokument\n")
	for i := range 5000 {
		fmt.Fprintf(&doc, "\nAbsatz %d: Aliyev sagte , er warte.\n", i)
	}
	var out bytes.Buffer
	b := &normalize.Batch{Normalizer: normalizer(t, "de")}
	if err := b.Run(context.Background(), strings.NewReader(doc.String()), intake.Origin{Path: "doc.txt"}, &out); err != nil {
		t.Fatal(err)
	}
	if err := b.Err(); err != nil {
		t.Fatalf("a document of 5,000 paragraphs was rejected: %v", err)
	}
	got := intake.ParsePlain(out.String())
	if len(got.Paragraphs) != 5000 || got.Paragraphs[4999] != "Absatz 4999: Alijew sagte, er warte." {
		t.Fatalf("%d paragraphs, last %q", len(got.Paragraphs), got.Paragraphs[len(got.Paragraphs)-1])
	}
}

func TestBatchLimitsRejectAndTheRestIsStillWritten(t *testing.T) {
	in := `{"title":"Kurz","paragraphs":["Eins.","Zwei.","Drei."]}
{"title":"Länger","paragraphs":["Eins.","Zwei.","Drei.","Vier.","Fünf."]}
{"title":"Auch kurz","paragraphs":["Eins."]}
`
	for _, tc := range []struct {
		name string
		lim  intake.Limits
	}{
		{"max-paragraphs", intake.Limits{MaxParagraphs: 4}},
		{"max-bytes", intake.Limits{MaxBytes: 70}},
	} {
		t.Run(tc.name+" rejects the article over it", func(t *testing.T) {
			var out, errs bytes.Buffer
			b := &normalize.Batch{Normalizer: normalizer(t, "de"), Limits: tc.lim, Errors: &errs}
			if err := b.Run(context.Background(), strings.NewReader(in), intake.Origin{Path: "in.jsonl"}, &out); err != nil {
				t.Fatal(err)
			}
			if !errors.Is(b.Err(), normalize.ErrRejected) || b.Rejected() != 1 {
				t.Fatalf("Err %v, rejected %d; want one rejection", b.Err(), b.Rejected())
			}
			arts := strings.Split(out.String(), normalize.Separator)
			if len(arts) != 2 || !strings.HasPrefix(arts[0], "Kurz\n") || !strings.HasPrefix(arts[1], "Auch kurz\n") {
				t.Fatalf("output %q", out.String())
			}
			if !strings.Contains(errs.String(), "in.jsonl line 2: input.too") {
				t.Errorf("rejection report %q", errs.String())
			}
		})
	}
}

// slowReader hands out its lines one at a time, recording how much output
// had been written when each was read.
type slowReader struct {
	lines []string
	out   *bytes.Buffer
	seen  []int
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.lines) == 0 {
		return 0, io.EOF
	}
	r.seen = append(r.seen, r.out.Len())
	n := copy(p, r.lines[0])
	r.lines = r.lines[1:]
	return n, nil
}

func TestBatchStreamsEachArticleBeforeReadingTheNext(t *testing.T) {
	var out bytes.Buffer
	r := &slowReader{out: &out, lines: []string{
		`{"title":"Eins","paragraphs":["Aliyev sagte."]}` + "\n",
		`{"title":"Zwei","paragraphs":["Aliyev sagte."]}` + "\n",
		`{"title":"Drei","paragraphs":["Aliyev sagte."]}` + "\n",
	}}
	b := &normalize.Batch{Normalizer: normalizer(t, "de"), JSON: true}
	if err := b.Run(context.Background(), r, intake.Origin{Path: "in.jsonl", Format: intake.JSONL}, &out); err != nil {
		t.Fatal(err)
	}
	// when the third line was read, the first record had been written
	if len(r.seen) < 3 || r.seen[2] == 0 {
		t.Fatalf("output before each read: %v; nothing was written before the input ended", r.seen)
	}
}

func TestBatchStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := &normalize.Batch{Normalizer: normalizer(t, "de")}
	err := b.Run(ctx, strings.NewReader("Titel\n\nText.\n"), intake.Origin{Path: "a.txt"}, io.Discard)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}
