package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/pipeline/langid"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
)

const feed = `<?xml version="1.0"?><rss version="2.0"><channel><title>Agentur</title>
<item><title>Bericht über die Lage</title><guid>f-1</guid><link>https://example.org/1</link>
<description>&lt;p&gt;Der Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt.&lt;/p&gt;</description></item>
<item><title>Aliyev announces talks</title><guid>f-2</guid>
<description>Azerbaijan's president said on Monday that he had asked the Russian president about the missile and had not received an answer.</description></item>
</channel></rss>`

func TestFeedsPublishItemsOnceAndRejectWhatIsNotGerman(t *testing.T) {
	ctx := context.Background()
	js := withJS(t)
	revs, _ := ingest.NewKVRevisions(ctx, js, bus.BucketRevisions)
	pub := &ingest.Publisher{JS: js, Revisions: revs}

	var gets, notModified atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprint(w, feed)
	}))
	defer srv.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<html>") }))
	defer broken.Close()

	var mu sync.Mutex
	outcomes := map[ingest.Outcome]int{}
	var feedErrs []string
	f := &ingest.Feeds{
		URLs: []string{srv.URL + "/rss", broken.URL}, Reader: &intake.Reader{Gate: gate(t)}, Source: "agentur",
		Emit: func(ctx context.Context, it intake.Item) error {
			out, err := pub.Emit(ctx, it)
			mu.Lock()
			outcomes[out]++
			mu.Unlock()
			return err
		},
		OnError: func(u string, err error) { feedErrs = append(feedErrs, u) },
	}
	if err := f.Poll(ctx); !errors.Is(err, ingest.ErrFeed) {
		t.Fatalf("a page that is not a feed: %v, want ErrFeed", err)
	}
	if outcomes[ingest.Published] != 1 || outcomes[ingest.Rejected] != 1 {
		t.Fatalf("first poll: %v", outcomes)
	}
	if len(feedErrs) != 1 || feedErrs[0] != broken.URL {
		t.Fatalf("feed errors %v", feedErrs)
	}
	t.Run("an unchanged feed costs one conditional request", func(t *testing.T) {
		f.URLs = f.URLs[:1]
		if err := f.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		if notModified.Load() != 1 || outcomes[ingest.Published] != 1 {
			t.Fatalf("304s %d, outcomes %v", notModified.Load(), outcomes)
		}
	})
	t.Run("a feed served again in full yields duplicates, not new articles", func(t *testing.T) {
		f2 := *f
		f2.URLs = []string{srv.URL + "/rss?again"}
		if err := f2.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		if outcomes[ingest.Duplicate] != 1 || outcomes[ingest.Published] != 1 {
			t.Fatalf("outcomes %v", outcomes)
		}
	})
}

func gate(t *testing.T) *langid.Gate {
	t.Helper()
	g, err := langid.New(langid.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestAnUnavailableFeedIsAnErrorAndTheOthersAreRead(t *testing.T) {
	ctx := context.Background()
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, feed) }))
	defer good.Close()
	missing := httptest.NewServer(http.NotFoundHandler())
	defer missing.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // nothing listens there any more
	var mu sync.Mutex
	var emitted int
	var reported []string
	f := &ingest.Feeds{
		URLs: []string{missing.URL + "/rss", gone.URL + "/rss", good.URL}, Reader: &intake.Reader{},
		Emit: func(ctx context.Context, it intake.Item) error {
			mu.Lock()
			defer mu.Unlock()
			emitted++
			return nil
		},
		OnError: func(u string, err error) {
			mu.Lock()
			defer mu.Unlock()
			reported = append(reported, u)
		},
	}
	err := f.Poll(ctx)
	if !errors.Is(err, ingest.ErrFeed) {
		t.Fatalf("%v, want ErrFeed", err)
	}
	var fe *ingest.FeedError
	if !errors.As(err, &fe) || fe.URL != missing.URL+"/rss" || fe.Status != http.StatusNotFound {
		t.Fatalf("first failure %+v, want the 404", fe)
	}
	if len(reported) != 2 || reported[1] != gone.URL+"/rss" {
		t.Fatalf("reported %v, want the 404 and the unreachable feed", reported)
	}
	if emitted != 2 {
		t.Fatalf("%d items of the good feed, want 2", emitted)
	}

	t.Run("watching, failures are reported each round and polling goes on", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		mu.Lock()
		reported = nil
		mu.Unlock()
		f.Interval = time.Millisecond
		f.OnError = func(u string, err error) {
			mu.Lock()
			defer mu.Unlock()
			if reported = append(reported, u); len(reported) == 4 {
				cancel()
			}
		}
		done := make(chan error, 1)
		go func() { done <- f.Run(ctx) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run ended with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no second round of polling")
		}
	})
}
