package sink_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/record"
	"github.com/dewire/dewire/workers/sink"
	"github.com/dewire/dewire/workers/stage"
)

func translated(id string, rev int, hash string) *article.Article {
	a := rec(id, rev)
	a.Hash = hash
	a.DE.Title = "Titel " + id + " " + hash
	a.Segments = []article.Segment{{Para: article.ParaTitle, DE: a.DE.Title, EN: "Title " + hash}, {Para: 0, DE: "Absatz.", EN: "Paragraph."}}
	return a
}

func handle(t *testing.T, h stage.Handler, a *article.Article) error {
	t.Helper()
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h(context.Background(), stage.Msg{Data: data})
	return err
}

func openSink(t *testing.T, dir string, extra ...sink.Writer) (*sink.Sink, *sink.TMX) {
	t.Helper()
	tmx, err := sink.OpenTMX(dir, record.TMXHeader{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tmx.Close() })
	return &sink.Sink{JSONL: open(t, dir), Extras: append([]sink.Writer{tmx}, extra...)}, tmx
}

func tmxUnits(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "articles-2026-11-24.tmx"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "<tu ")
}

func TestSinkRedeliveryAfterACrashBetweenTMXAndJSONLWritesTMXOnce(t *testing.T) {
	dir := t.TempDir()
	s, tmx := openSink(t, dir)
	if err := handle(t, s.Handler(), translated("a", 1, "h1")); err != nil {
		t.Fatal(err)
	}
	s.JSONL.Close()
	tmx.Close()
	// The crash: the TMX append reached the disk, the JSONL write did not.
	for _, name := range []string{"articles-2026-11-24.jsonl", "index.tsv"} {
		if err := os.Truncate(filepath.Join(dir, name), 0); err != nil {
			t.Fatal(err)
		}
	}
	s, _ = openSink(t, dir)
	if err := handle(t, s.Handler(), translated("a", 1, "h1")); err != nil {
		t.Fatal(err)
	}
	if n := tmxUnits(t, dir); n != 2 {
		t.Fatalf("%d units in the TMX, want the record's 2 once", n)
	}
	if n := len(lines(t, dir)); n != 1 {
		t.Fatalf("%d JSONL lines, want 1", n)
	}
}

type failOnce struct{ failed bool }

var errInjected = errors.New("injected failure")

func (f *failOnce) Write(context.Context, *article.Article) error {
	if !f.failed {
		f.failed = true
		return errInjected
	}
	return nil
}

func TestSinkFailureAfterTheTMXIsRetriedWithoutDuplicates(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSink(t, dir, &failOnce{})
	calls := 0
	s.OnWritten = func(a *article.Article, fresh bool) {
		calls++
		if !fresh {
			t.Error("the first successful write is not fresh")
		}
	}
	if err := handle(t, s.Handler(), translated("a", 1, "h1")); !errors.Is(err, errInjected) {
		t.Fatalf("first delivery: %v, want the injected failure", err)
	}
	if err := handle(t, s.Handler(), translated("a", 1, "h1")); err != nil {
		t.Fatal(err)
	}
	if n := tmxUnits(t, dir); n != 2 || len(lines(t, dir)) != 1 || calls != 1 {
		t.Fatalf("%d units (want 2), %d lines (want 1), OnWritten %d times (want 1)", tmxUnits(t, dir), len(lines(t, dir)), calls)
	}
}

func TestSinkKeepsChangedContentThatArrivesUnderAStoredRevision(t *testing.T) {
	dir := t.TempDir()
	s, tmx := openSink(t, dir)
	if err := handle(t, s.Handler(), translated("a", 1, "h1")); err != nil {
		t.Fatal(err)
	}
	s.JSONL.Close()
	tmx.Close() // one writer per folder at a time

	// A pipeline with a fresh revision store numbers the changed article 1 again.
	s, _ = openSink(t, dir)
	type call struct {
		key        string
		fresh      bool
		reassigned bool
	}
	var calls []call
	s.OnWritten = func(a *article.Article, fresh bool) {
		calls = append(calls, call{a.Key(), fresh, a.HasFlag(sink.FlagRevisionReassigned)})
	}
	for range 2 {
		if err := handle(t, s.Handler(), translated("a", 1, "h2")); err != nil {
			t.Fatal(err)
		}
	}
	got := lines(t, dir)
	if len(got) != 2 {
		t.Fatalf("%d lines, want the first content and the changed one:\n%s", len(got), strings.Join(got, "\n"))
	}
	var stored article.Article
	if err := json.Unmarshal([]byte(got[1]), &stored); err != nil {
		t.Fatal(err)
	}
	if stored.Rev != 2 || stored.Hash != "h2" || !stored.HasFlag(sink.FlagRevisionReassigned) {
		t.Fatalf("stored rev %d hash %q flags %+v; want rev 2, h2, flagged", stored.Rev, stored.Hash, stored.Flags)
	}
	want := []call{{"a@1", true, true}, {"a@1", false, false}}
	if len(calls) != 2 || calls[0] != want[0] || calls[1] != want[1] {
		t.Fatalf("OnWritten calls %+v, want %+v", calls, want)
	}
	if n := tmxUnits(t, dir); n != 4 {
		t.Fatalf("%d TMX units, want 2 per content", n)
	}
	t.Run("the sink tells an ingest where the revisions of an id stand", func(t *testing.T) {
		s.JSONL.Close()
		j := open(t, dir)
		if rev, hash, ok := j.Latest("a"); rev != 2 || hash != "h2" || !ok {
			t.Fatalf("Latest(a) = %d, %q, %v; want 2, h2, true", rev, hash, ok)
		}
		if _, _, ok := j.Latest("b"); ok {
			t.Fatal("Latest of an id never stored is ok")
		}
	})
}

func TestSinkCallsOnWrittenOncePerHandledRecord(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSink(t, dir)
	calls := map[string][]bool{}
	s.OnWritten = func(a *article.Article, fresh bool) { calls[a.Key()] = append(calls[a.Key()], fresh) }
	for _, a := range []*article.Article{translated("a", 1, "h1"), translated("b", 1, "h1"), translated("a", 1, "h1")} {
		if err := handle(t, s.Handler(), a); err != nil {
			t.Fatal(err)
		}
	}
	if got := calls["a@1"]; len(got) != 2 || !got[0] || got[1] {
		t.Errorf("a@1: fresh %v, want [true false]", got)
	}
	if got := calls["b@1"]; len(got) != 1 || !got[0] {
		t.Errorf("b@1: fresh %v, want [true]", got)
	}
}

func TestSinkRejectsAnIDItCannotIndexForGood(t *testing.T) {
	s, _ := openSink(t, t.TempDir())
	err := handle(t, s.Handler(), rec("a\tb", 1))
	if !errors.Is(err, stage.ErrPermanent) || !errors.Is(err, sink.ErrInvalidRecord) {
		t.Fatalf("handler = %v, want a permanent ErrInvalidRecord", err)
	}
}

func TestJSONLReadsAnIndexWithoutHashes(t *testing.T) {
	dir := t.TempDir()
	j := open(t, dir)
	for _, a := range []*article.Article{translated("a", 1, "h1"), translated("b", 1, "hb")} {
		if _, err := j.Write(a); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	// The index as written before it kept the content hash.
	idx := filepath.Join(dir, "index.tsv")
	b, _ := os.ReadFile(idx)
	var old strings.Builder
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if cols := strings.Split(strings.TrimSuffix(line, "\n"), "\t"); len(cols) == 4 {
			old.WriteString(strings.Join(cols[:3], "\t") + "\n")
		}
	}
	os.WriteFile(idx, []byte(old.String()), 0o644)

	j = open(t, dir)
	if rev, hash, ok := j.Latest("a"); rev != 1 || hash != "h1" || !ok {
		t.Fatalf("Latest(a) = %d, %q, %v; want 1, h1, true", rev, hash, ok)
	}
	if fresh, err := j.Write(translated("a", 1, "h1")); err != nil || fresh {
		t.Fatalf("the same record again: fresh %v, %v", fresh, err)
	}
	if fresh, err := j.Write(translated("a", 1, "h2")); err != nil || !fresh {
		t.Fatalf("other content under a@1: fresh %v, %v; want it stored", fresh, err)
	}
	if !j.Has("a", 2) || j.Len() != 3 {
		t.Fatalf("Has(a, 2) %v, Len %d; want true, 3", j.Has("a", 2), j.Len())
	}
	b, _ = os.ReadFile(idx)
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if len(strings.Split(line, "\t")) != 4 {
			t.Fatalf("index line %q not rewritten with its hash", line)
		}
	}
}
