package mt_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/mt/mttest"
)

func testArticle() *article.Article {
	return &article.Article{
		ID: "a1", Rev: 1,
		DE: article.Text{
			Title: "Alijew spricht mit Putin",
			Paragraphs: []string{
				"Der Präsident sagte am 1. April etwas.  Dann ging er.",
				"„Wir warten. Jetzt“, sagte er. Ilham Alijew lachte.",
			},
		},
		Entities: []article.Entity{{ID: "aliyev", DE: "Ilham Alijew", EN: "Ilham Aliyev"}, {ID: "putin", DE: "Putin", EN: "Putin"}},
	}
}

var fastRetry = mt.Retry{Base: time.Millisecond, Max: 5 * time.Millisecond}

func TestTranslatorAssemblesParagraphsFromSentences(t *testing.T) {
	eng := &mttest.Engine{}
	tr := &mt.Translator{Engine: eng}
	a := testArticle()
	st, err := tr.TranslateArticle(context.Background(), a, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantParas := []string{
		"[en] Der Präsident sagte am 1. April etwas.  [en] Dann ging er.",
		"[en] „Wir warten. Jetzt“, sagte er. [en] Ilham Aliyev lachte.",
	}
	if a.EN.Title != "[en] Alijew spricht mit Putin" || a.EN.Lead != "" {
		t.Errorf("title %q lead %q", a.EN.Title, a.EN.Lead)
	}
	for i, w := range wantParas {
		if a.EN.Paragraphs[i] != w {
			t.Errorf("paragraph %d = %q, want %q", i, a.EN.Paragraphs[i], w)
		}
	}
	if len(a.Segments) != 5 || a.Segments[0].Para != article.ParaTitle || a.Segments[4].Para != 1 {
		t.Errorf("segments %+v", a.Segments)
	}
	if a.Engine.Name != "fake" || a.Engine.Segments != 5 || a.Engine.Translated != 5 || a.Engine.FromMemory != 0 || a.Engine.BilledChars != st.BilledChars {
		t.Errorf("engine record %+v, stats %+v", a.Engine, st)
	}
	if st.SentChars != eng.Counts().Chars || st.SentChars == 0 {
		t.Errorf("stats sent %d chars, engine saw %d", st.SentChars, eng.Counts().Chars)
	}
}

func TestTranslatorSendsOnlyMemoryMisses(t *testing.T) {
	eng := &mttest.Engine{}
	tr := &mt.Translator{Engine: eng, Memory: mt.NewMemoryTM()}
	ctx := context.Background()
	first, err := tr.TranslateArticle(ctx, testArticle(), nil)
	if err != nil {
		t.Fatal(err)
	}
	replay := testArticle()
	again, err := tr.TranslateArticle(ctx, replay, nil)
	if err != nil {
		t.Fatal(err)
	}
	revised := testArticle()
	revised.Rev = 2
	revised.DE.Paragraphs[0] = "Der Präsident sagte am 1. April etwas anderes.  Dann ging er."
	rev, err := tr.TranslateArticle(ctx, revised, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.SentChars != 0 || again.FromMemory != 5 || replay.Engine.FromMemory != 5 || !replay.Segments[1].FromMemory {
		t.Errorf("replay sent %d chars, %d from memory", again.SentChars, again.FromMemory)
	}
	want := len([]rune("Der Präsident sagte am 1. April etwas anderes."))
	if rev.SentChars != want || rev.Translated != 1 {
		t.Errorf("revision sent %d chars in %d sentences, want %d in 1", rev.SentChars, rev.Translated, want)
	}
	if first.SentChars <= rev.SentChars {
		t.Errorf("fresh %d chars not more than revision %d", first.SentChars, rev.SentChars)
	}
	if replay.EN.Paragraphs[1] != "[en] „Wir warten. Jetzt“, sagte er. [en] Ilham Aliyev lachte." {
		t.Errorf("replayed paragraph %q", replay.EN.Paragraphs[1])
	}
}

func TestTranslatorBatchesWithinLimits(t *testing.T) {
	a := &article.Article{ID: "b", Rev: 1, DE: article.Text{Title: "Titel"}}
	for _, w := range []string{"eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben"} {
		a.DE.Paragraphs = append(a.DE.Paragraphs, strings.Repeat("Satz "+w+". ", 3))
	}
	eng := &mttest.Engine{Lim: mt.Limits{MaxSegments: 4, MaxBytes: 100}}
	var beats int
	tr := &mt.Translator{Engine: eng, Memory: mt.NewMemoryTM()}
	st, err := tr.TranslateArticle(context.Background(), a, func() { beats++ })
	if err != nil {
		t.Fatal(err)
	}
	c := eng.Counts()
	for _, n := range c.Batches {
		if n > 4 {
			t.Errorf("batch of %d segments, limit 4", n)
		}
	}
	// Repeated sentences within an article are sent once.
	if c.Segments != 8 || st.Segments != 22 {
		t.Errorf("engine got %d segments for %d in the article", c.Segments, st.Segments)
	}
	if beats != c.Calls {
		t.Errorf("progress called %d times for %d batches", beats, c.Calls)
	}
}

func TestTranslatorErrors(t *testing.T) {
	tests := []struct {
		name      string
		fail      func(call int) error
		wantErr   error
		wantCalls int
	}{
		{"retries a retryable failure and succeeds", func(call int) error {
			if call < 3 {
				return &mt.Error{Engine: "fake", Class: mt.ErrRetryable, Status: 429, RetryAfter: 2 * time.Millisecond}
			}
			return nil
		}, nil, 3},
		{"gives up after the retry budget", func(int) error {
			return &mt.Error{Engine: "fake", Class: mt.ErrRetryable, Status: 503}
		}, mt.ErrRetryable, 5},
		{"returns quota exhaustion at once", func(int) error {
			return &mt.Error{Engine: "fake", Class: mt.ErrQuota, Status: 456}
		}, mt.ErrQuota, 1},
		{"returns bad credentials at once", func(int) error {
			return &mt.Error{Engine: "fake", Class: mt.ErrAuth, Status: 403}
		}, mt.ErrAuth, 1},
		{"returns a permanent failure at once", func(int) error {
			return &mt.Error{Engine: "fake", Class: mt.ErrPermanent, Status: 400}
		}, mt.ErrPermanent, 1},
		{"retries an unclassified network failure", func(call int) error {
			if call == 1 {
				return errors.New("connection reset")
			}
			return nil
		}, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := &mttest.Engine{Fail: func(call int, _ mt.Request) error { return tt.fail(call) }}
			tr := &mt.Translator{Engine: eng, Retry: fastRetry}
			a := testArticle()
			_, err := tr.TranslateArticle(context.Background(), a, nil)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if got := eng.Counts().Calls; got != tt.wantCalls {
				t.Errorf("%d calls, want %d", got, tt.wantCalls)
			}
			if tt.wantErr != nil && a.EN != nil {
				t.Errorf("article changed on failure")
			}
		})
	}
}

func TestTranslatorRetryBudgetHonoursRetryAfter(t *testing.T) {
	eng := &mttest.Engine{Fail: func(int, mt.Request) error {
		return &mt.Error{Engine: "fake", Class: mt.ErrRetryable, Status: 429, RetryAfter: time.Hour}
	}}
	tr := &mt.Translator{Engine: eng, Retry: mt.Retry{Budget: time.Second}}
	_, err := tr.TranslateArticle(context.Background(), testArticle(), nil)
	if !errors.Is(err, mt.ErrRetryable) || eng.Counts().Calls != 1 {
		t.Fatalf("error %v after %d calls; want to give up at once when Retry-After exceeds the budget", err, eng.Counts().Calls)
	}
}

func TestTranslatorLimitsConcurrencyAcrossArticles(t *testing.T) {
	eng := &mttest.Engine{Fail: func(int, mt.Request) error { time.Sleep(5 * time.Millisecond); return nil }}
	tr := &mt.Translator{Engine: eng, Concurrency: 1}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := tr.TranslateArticle(context.Background(), testArticle(), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if m := eng.Counts().MaxInFlight; m != 1 {
		t.Errorf("%d requests in flight, limit 1", m)
	}
}

func TestTranslatorEntities(t *testing.T) {
	tests := []struct {
		name      string
		translate func(string) string
		wantPara  string
		wantEdit  bool
		wantFlag  bool
	}{
		{"keeps an entity the engine rendered", func(s string) string { return strings.ReplaceAll(s, "Ilham Alijew", "Ilham Aliyev") }, "„Wir warten. Jetzt“, sagte er. Ilham Aliyev lachte.", false, false},
		{"repairs an entity the engine copied in German", func(s string) string { return s }, "„Wir warten. Jetzt“, sagte er. Ilham Aliyev lachte.", true, false},
		{"flags an entity the engine lost", func(s string) string { return strings.ReplaceAll(s, "Ilham Alijew", "Der Präsident") }, "„Wir warten. Jetzt“, sagte er. Der Präsident lachte.", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &mt.Translator{Engine: funcEngine(tt.translate)}
			a := testArticle()
			if err := tr.Translate(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			if a.EN.Paragraphs[1] != tt.wantPara {
				t.Errorf("paragraph %q, want %q", a.EN.Paragraphs[1], tt.wantPara)
			}
			var edit *article.Edit
			for i := range a.Edits {
				if a.Edits[i].Rule == mt.RuleEntityRepair {
					edit = &a.Edits[i]
				}
			}
			if (edit != nil) != tt.wantEdit {
				t.Errorf("edits %+v", a.Edits)
			}
			if edit != nil && a.EN.Paragraphs[1][edit.Offset:edit.Offset+len(edit.After)] != edit.After {
				t.Errorf("edit offset %d does not point at %q", edit.Offset, edit.After)
			}
			if a.HasFlag(mt.FlagEntityMismatch) != tt.wantFlag {
				t.Errorf("flags %+v", a.Flags)
			}
		})
	}
}

type funcEngine func(string) string

func (funcEngine) Name() string      { return "func" }
func (funcEngine) Model() string     { return "" }
func (funcEngine) Limits() mt.Limits { return mt.Limits{} }
func (f funcEngine) Translate(_ context.Context, req mt.Request) (mt.Result, error) {
	out := make([]string, len(req.Segments))
	for i, s := range req.Segments {
		out[i] = f(s)
	}
	return mt.Result{Translations: out}, nil
}

func TestTranslatorWithoutEngineSkips(t *testing.T) {
	a := testArticle()
	if err := (&mt.Translator{}).Translate(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if a.EN != nil || !a.HasFlag(article.FlagTranslationSkipped) || a.Engine.Name != "none" {
		t.Errorf("article %+v", a)
	}
}

func BenchmarkTranslator(b *testing.B) {
	a := testArticle()
	for range 20 {
		a.DE.Paragraphs = append(a.DE.Paragraphs, a.DE.Paragraphs[0]+" Ilham Alijew sprach am 4. April in Baku. Dr. Müller war u. a. dabei.")
	}
	tr := &mt.Translator{Engine: &mttest.Engine{Lim: mt.Limits{MaxSegments: 50, MaxBytes: 128 << 10}}}
	b.ReportAllocs()
	for b.Loop() {
		c := *a
		if _, err := tr.TranslateArticle(context.Background(), &c, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestTranslatorHeartbeatsDuringALongRequest(t *testing.T) {
	// The engine answers only once three heartbeats have come, so the
	// request ends well only if they come while it is in flight. The minute
	// guards against a hang, it is not a measure.
	enough := make(chan struct{})
	eng := &mttest.Engine{Fail: func(int, mt.Request) error {
		select {
		case <-enough:
			return nil
		case <-time.After(time.Minute):
			return &mt.Error{Engine: "fake", Class: mt.ErrPermanent, Message: "no three heartbeats while the request was in flight"}
		}
	}}
	beats := 0
	tr := &mt.Translator{Engine: eng, Heartbeat: time.Millisecond}
	a := &article.Article{ID: "h", Rev: 1, DE: article.Text{Title: "Kurz"}}
	_, err := tr.TranslateArticle(context.Background(), a, func() {
		if beats++; beats == 3 {
			close(enough)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if eng.Counts().Calls != 1 {
		t.Errorf("%d calls, want the one that saw three heartbeats", eng.Counts().Calls)
	}
}

// recordSleeps makes tr record its retry waits instead of sleeping.
func recordSleeps(tr *mt.Translator) *[]time.Duration {
	var waits []time.Duration
	mt.SetSleep(tr, func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	})
	return &waits
}

func TestTranslatorWaitsWhatRetryAfterAsks(t *testing.T) {
	asks := []time.Duration{7 * time.Second, 3 * time.Second}
	eng := &mttest.Engine{Fail: func(call int, _ mt.Request) error {
		if call <= len(asks) {
			return &mt.Error{Engine: "fake", Class: mt.ErrRetryable, Status: 429, RetryAfter: asks[call-1]}
		}
		return nil
	}}
	tr := &mt.Translator{Engine: eng, Retry: mt.Retry{Base: time.Millisecond, Max: 2 * time.Millisecond}}
	waits := recordSleeps(tr)
	st, err := tr.TranslateArticle(context.Background(), testArticle(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(*waits) != len(asks) || st.Retries != len(asks) || eng.Counts().Calls != len(asks)+1 {
		t.Fatalf("waits %v, %d retries, %d calls; want one wait per Retry-After", *waits, st.Retries, eng.Counts().Calls)
	}
	for i, ask := range asks {
		// At least what the service asked (not the 2ms backoff), with at most a tenth of jitter on top.
		if w := (*waits)[i]; w < ask || w > ask+ask/10 {
			t.Errorf("wait %d is %v; Retry-After asked %v", i+1, w, ask)
		}
	}
}

func TestTranslatorBacksOffExponentiallyWithoutRetryAfter(t *testing.T) {
	eng := &mttest.Engine{Fail: func(int, mt.Request) error {
		return &mt.Error{Engine: "fake", Class: mt.ErrRetryable, Status: 503}
	}}
	tr := &mt.Translator{Engine: eng, Retry: mt.Retry{Attempts: 5, Base: time.Second, Max: 4 * time.Second, Budget: time.Hour}}
	waits := recordSleeps(tr)
	_, err := tr.TranslateArticle(context.Background(), testArticle(), nil)
	if !errors.Is(err, mt.ErrRetryable) {
		t.Fatalf("error %v, want mt.ErrRetryable after the last attempt", err)
	}
	// Each wait is in [d/2, d] for d = 1s, 2s, 4s and then the 4s cap.
	caps := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}
	if len(*waits) != len(caps) || eng.Counts().Calls != 5 {
		t.Fatalf("waits %v after %d calls; want %d waits between 5 attempts", *waits, eng.Counts().Calls, len(caps))
	}
	for i, d := range caps {
		if w := (*waits)[i]; w < d/2 || w > d {
			t.Errorf("wait %d is %v, want between %v and %v", i+1, w, d/2, d)
		}
	}
}

func TestTranslatorStopsWaitingWhenTheContextEnds(t *testing.T) {
	eng := &mttest.Engine{Fail: func(int, mt.Request) error {
		return &mt.Error{Engine: "fake", Class: mt.ErrRetryable, Status: 429, RetryAfter: time.Second}
	}}
	tr := &mt.Translator{Engine: eng}
	ctx, cancel := context.WithCancel(context.Background())
	mt.SetSleep(tr, func(context.Context, time.Duration) error {
		cancel() // the worker shuts down during the wait
		return context.Canceled
	})
	_, err := tr.TranslateArticle(ctx, testArticle(), nil)
	if !errors.Is(err, context.Canceled) || eng.Counts().Calls != 1 {
		t.Fatalf("error %v after %d calls; want context.Canceled and no retry", err, eng.Counts().Calls)
	}
}
