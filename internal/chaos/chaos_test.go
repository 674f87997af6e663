package chaos

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/langid"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/libretranslate"
)

// envServeNATS makes the test binary act as the chaos nats-server process.
const envServeNATS = "DEWIRE_CHAOS_SERVE_NATS"

func TestMain(m *testing.M) {
	if os.Getenv(envServeNATS) == "1" {
		if err := ServeNATS(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestChaosShort runs the short chaos run against real processes: it fails
// when a record was lost or duplicated. It takes minutes, so it runs only
// with DEWIRE_CHAOS=1 (CI also runs `go run ./cmd/dewire-chaos --short`).
func TestChaosShort(t *testing.T) {
	if os.Getenv("DEWIRE_CHAOS") != "1" {
		t.Skip("set DEWIRE_CHAOS=1 to run the chaos run (minutes, real processes)")
	}
	cfg := DefaultConfig(true)
	cfg.Root = testenv.Root(t)
	cfg.Cluster = os.Getenv("DEWIRE_CHAOS_CLUSTER") == "1"
	cfg.NATSCommand = []string{os.Args[0]}
	cfg.NATSEnv = []string{envServeNATS + "=1"}
	var progress strings.Builder
	cfg.Out = &progress
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-30*time.Second))
		t.Cleanup(cancel)
	}
	rep, err := Run(ctx, cfg)
	t.Log(progress.String())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.WriteTo(&b)
	t.Log(b.String())
	if rep.Failed() {
		t.Errorf("lost %d, duplicated %d, records missing TMX units %d:\nlost: %v\nduplicated: %v\ntmx: %v",
			len(rep.Lost), len(rep.Duplicated), len(rep.TMXMissing), rep.Lost, rep.Duplicated, rep.TMXMissing)
	}
}

func TestFakeEngineAnswersTheLibreTranslateClient(t *testing.T) {
	srv := httptest.NewServer(NewFakeEngine(1, 0, 0))
	t.Cleanup(srv.Close)
	eng, err := libretranslate.New(libretranslate.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := eng.Check(ctx); err != nil {
		t.Fatalf("the client's language check fails against the fake: %v", err)
	}
	segs := []string{"Die Stadt hat am Montag erklärt, dass die Kosten steigen.", "", "Der Stadtrat und die Polizei."}
	first, err := eng.Translate(ctx, mt.Request{SourceLang: "de", TargetLang: "en", Segments: segs})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Translations) != len(segs) {
		t.Fatalf("%d translations for %d segments", len(first.Translations), len(segs))
	}
	if got, want := first.Translations[2], "The city council and the police."; got != want {
		t.Errorf("translation of %q = %q, want %q", segs[2], got, want)
	}
	again, err := eng.Translate(ctx, mt.Request{SourceLang: "de", TargetLang: "en", Segments: segs})
	if err != nil {
		t.Fatal(err)
	}
	for i := range segs {
		if first.Translations[i] != again.Translations[i] {
			t.Errorf("segment %d translated as %q, then %q: the fake must be deterministic", i, first.Translations[i], again.Translations[i])
		}
	}
}

func TestFakeEngineFailuresAreRetryableForTheClient(t *testing.T) {
	fake := NewFakeEngine(7, 1, 0)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	eng, err := libretranslate.New(libretranslate.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Check(context.Background()); err != nil {
		t.Fatalf("/languages must never fail, got %v", err)
	}
	for i := range 8 {
		_, err := eng.Translate(context.Background(), mt.Request{SourceLang: "de", TargetLang: "en", Segments: []string{"Ein Satz."}})
		if !errors.Is(err, mt.ErrRetryable) {
			t.Fatalf("request %d: error %v, want one the client retries (mt.ErrRetryable)", i, err)
		}
	}
	if got := fake.Failures.Load(); got != 8 {
		t.Errorf("fake counted %d failures, want 8", got)
	}
}

func TestPlanMixesNewArticlesRevisionsAndDuplicates(t *testing.T) {
	tasks := plan(3, 300, time.Minute)
	gate, err := langid.New(langid.Options{})
	if err != nil {
		t.Fatal(err)
	}
	items, channels := 0, map[string]int{}
	contents := map[string]map[string]bool{} // guid → content hashes
	ids := map[string]string{}               // guid → id
	exactDuplicates, revisions := 0, 0
	for _, tk := range tasks {
		channels[tk.channel]++
		seen := map[key]bool{}
		for _, s := range tk.steps {
			for i, d := range s.docs {
				items++
				k, err := identify(d)
				if err != nil {
					t.Fatal(err)
				}
				if seen[k] {
					exactDuplicates++
				}
				seen[k] = true
				if id, ok := ids[d.GUID]; ok && id != k.ID {
					t.Errorf("guid %s has ids %s and %s", d.GUID, id, k.ID)
				}
				ids[d.GUID] = k.ID
				if contents[d.GUID] == nil {
					contents[d.GUID] = map[string]bool{}
				}
				if !contents[d.GUID][k.Hash] && s.version[i] > 1 {
					revisions++
				}
				contents[d.GUID][k.Hash] = true
				text := articleText(d)
				if ok, code, conf := gate.IsGerman(&text); !ok {
					t.Fatalf("article %s is not taken for German (%s, %.2f): %q", d.GUID, code, conf, d.Paragraphs[0])
				}
			}
		}
	}
	if items < 300 {
		t.Errorf("plan has %d items, want at least 300", items)
	}
	if channels[viaHTTP] == 0 || channels[viaFolder] == 0 {
		t.Errorf("tasks per channel %v, want both http and folder", channels)
	}
	if exactDuplicates == 0 || revisions == 0 {
		t.Errorf("%d exact duplicates and %d revisions, want some of each", exactDuplicates, revisions)
	}
}

// sinkFixture writes JSONL and TMX files as a sink would, from lines.
func sinkFixture(t *testing.T, jsonl []string, tuids []string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "articles-2026-03-01.jsonl"), []byte(strings.Join(jsonl, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var tmx strings.Builder
	tmx.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<tmx version=\"1.4\"><header srclang=\"de\"/><body>\n")
	for _, id := range tuids {
		fmt.Fprintf(&tmx, "<tu tuid=%q><tuv xml:lang=\"de\"><seg>a</seg></tuv><tuv xml:lang=\"en\"><seg>b</seg></tuv></tu>\n", id)
	}
	tmx.WriteString("</body>\n</tmx>\n")
	if err := os.WriteFile(filepath.Join(dir, "articles-2026-03-01.tmx"), []byte(tmx.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func record(id string, rev int, hash string, segments int) string {
	segs := strings.TrimSuffix(strings.Repeat(`{"para":0,"de":"a","en":"b"},`, segments), ",")
	return fmt.Sprintf(`{"schema":"dewire.article/v1","id":%q,"rev":%d,"hash":%q,"segments":[%s]}`, id, rev, hash, segs)
}

func TestAuditFindsLostDuplicatedAndDeadLetteredRecords(t *testing.T) {
	led := newLedger()
	for _, k := range []key{{"a", "ha"}, {"b", "hb"}, {"c", "hc"}, {"d", "hd"}, {"e", "he"}, {"f", "hf"}} {
		led.expect(k, expectation{GUID: "g-" + k.ID, Channel: viaHTTP, Version: 1, Confirmed: true})
	}
	dir := sinkFixture(t,
		[]string{
			record("a", 1, "ha", 2),
			record("b", 1, "hb", 1), record("b", 1, "hb", 1), // the same (id, rev) twice
			record("c", 1, "hc", 0), record("c", 2, "hc", 0), // the same content under two revisions
			record("f", 1, "hf", 2), // its TMX units are missing
		},
		[]string{"a@1#1", "a@1#2", "a@1#2", "b@1#1"}, // a@1#2 twice
	)
	sf, err := readSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	dlq := []streamMsg{{seq: 1, header: map[string][]string{"Dewire-Stage": {"translate"}}, rec: stored{ID: "e", Rev: 1, Hash: "he"}}}
	clean := []streamMsg{{seq: 1, rec: stored{ID: "a", Rev: 1, Hash: "ha"}}, {seq: 2, rec: stored{ID: "a", Rev: 1, Hash: "ha"}}}
	var a Audit
	compare(&a, led, sf, clean, dlq, nil)

	if a.Expected != 6 {
		t.Errorf("expected %d, want 6", a.Expected)
	}
	if len(a.Lost) != 1 || !strings.HasPrefix(a.Lost[0], "d ") {
		t.Errorf("lost %q, want only d", a.Lost)
	}
	if len(a.DeadLettered) != 1 || !strings.HasPrefix(a.DeadLettered[0], "e@1") {
		t.Errorf("dead-lettered %q, want only e@1", a.DeadLettered)
	}
	want := []string{"TMX unit a@1#2: 2 times", "a@1: 2 times in ARTICLES_CLEAN", "b@1: 2 times in the JSONL", "c: the same content stored as 2 revisions"}
	if len(a.Duplicated) != len(want) {
		t.Fatalf("duplicated %q, want %d entries starting %q", a.Duplicated, len(want), want)
	}
	for i, w := range want {
		if !strings.HasPrefix(a.Duplicated[i], w) {
			t.Errorf("duplicated[%d] = %q, want it to start %q", i, a.Duplicated[i], w)
		}
	}
	if len(a.TMXMissing) != 1 || !strings.HasPrefix(a.TMXMissing[0], "f@1: 2 of 2") {
		t.Errorf("TMX missing %q, want f@1 with 2 of 2 units", a.TMXMissing)
	}
	if a.Written != 5 {
		t.Errorf("written %d distinct id@rev, want 5 (a@1 b@1 c@1 c@2 f@1)", a.Written)
	}
}

func TestAuditCountsNothingWhenEveryRecordIsStoredOnce(t *testing.T) {
	led := newLedger()
	led.expect(key{"a", "ha"}, expectation{GUID: "g-a", Channel: viaFolder, Version: 1, Confirmed: true})
	led.expect(key{"a", "ha2"}, expectation{GUID: "g-a", Channel: viaFolder, Version: 2, Confirmed: true})
	dir := sinkFixture(t, []string{record("a", 1, "ha", 1), record("a", 2, "ha2", 1)}, []string{"a@1#1", "a@2#1"})
	sf, err := readSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	var a Audit
	compare(&a, led, sf, nil, nil, nil)
	if len(a.Lost)+len(a.Duplicated)+len(a.TMXMissing)+a.Unexpected != 0 || a.Expected != 2 || a.Written != 2 {
		t.Errorf("audit of a clean sink: %+v", a)
	}
}

func articleText(d doc) article.Text {
	return article.Text{Title: d.Title, Paragraphs: d.Paragraphs}
}
