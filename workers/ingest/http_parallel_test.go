package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
	"github.com/dewire/dewire/workers/stage"
)

// gatedRevisions holds every Assign until want of them are waiting at
// once, which only publishers running in parallel can reach; after ten
// seconds it gives up and lets every Assign through.
type gatedRevisions struct {
	article.RevisionStore
	want int

	mu      sync.Mutex
	waiting int
	open    chan struct{}
	reached bool
	gaveUp  bool
}

func (g *gatedRevisions) Assign(ctx context.Context, id, hash string) (int, bool, error) {
	g.mu.Lock()
	g.waiting++
	if g.waiting >= g.want && !g.reached {
		g.reached = true
		close(g.open)
	}
	g.mu.Unlock()
	t := time.NewTimer(10 * time.Second)
	select {
	case <-g.open:
	case <-t.C:
	case <-ctx.Done():
	}
	t.Stop()
	g.mu.Lock()
	g.waiting--
	if !g.reached { // given up: let the rest through
		g.reached, g.gaveUp = true, true
		close(g.open)
	}
	g.mu.Unlock()
	return g.RevisionStore.Assign(ctx, id, hash)
}

func TestPostedJSONLinesArePublishedInParallelAndAnsweredInOrder(t *testing.T) {
	ctx := context.Background()
	js := withJS(t)
	kv, err := ingest.NewKVRevisions(ctx, js, bus.BucketRevisions)
	if err != nil {
		t.Fatal(err)
	}
	gate := &gatedRevisions{RevisionStore: kv, want: 4, open: make(chan struct{})}
	g, err := ingest.New(ctx, stage.Env{JS: js, Concurrency: 8}, ingest.Options{Revisions: gate})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	srv := httptest.NewServer(g.HTTPHandler())
	defer srv.Close()

	// Ten articles, each sent in four versions, interleaved, and a bad line.
	const ids, versions = 10, 4
	var body strings.Builder
	var guids []string
	for v := range versions {
		for i := range ids {
			fmt.Fprintf(&body, `{"guid":"p%d","title":"Bericht %d, Fassung %d","paragraphs":["Absatz %d."]}`+"\n", i, i, v+1, v)
			guids = append(guids, "p"+strconv.Itoa(i))
		}
	}
	body.WriteString(`{"guid":"bad","title":"Bericht","paragraphs":[1]}` + "\n")
	guids = append(guids, "bad")

	resp, err := http.Post(srv.URL, "application/x-ndjson", strings.NewReader(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Items []ingest.ItemResult }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	if gate.gaveUp {
		t.Error("no four items of the body were being published at once")
	}

	t.Run("one result per line, in the body's order", func(t *testing.T) {
		if len(out.Items) != len(guids) {
			t.Fatalf("%d results for %d lines", len(out.Items), len(guids))
		}
		idOf := map[string]string{}
		for i, r := range out.Items {
			if r.Line != i+1 {
				t.Fatalf("result %d is for line %d", i+1, r.Line)
			}
			if want, seen := idOf[guids[i]]; seen && r.ID != want {
				t.Fatalf("line %d (%s) answered with id %s, earlier lines of it with %s", i+1, guids[i], r.ID, want)
			}
			idOf[guids[i]] = r.ID
		}
		if last := out.Items[len(out.Items)-1]; last.Outcome != "rejected" {
			t.Fatalf("the bad line: %+v", last)
		}
	})
	t.Run("the versions of one article get revisions in the order they were sent", func(t *testing.T) {
		next := map[string]int{}
		for _, r := range out.Items[:ids*versions] {
			next[r.ID]++
			if r.Outcome != "published" || r.Rev != next[r.ID] {
				t.Fatalf("line %d: %s rev %d (%s), want rev %d published", r.Line, r.ID, r.Rev, r.Outcome, next[r.ID])
			}
		}
	})
	t.Run("the stream holds each article's revisions in that order", func(t *testing.T) {
		st, err := js.Stream(ctx, bus.StreamRaw)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		last := map[string]int{}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
			m, err := st.GetMsg(ctx, seq)
			if err != nil {
				t.Fatal(err)
			}
			id := m.Header.Get(bus.HeaderID)
			rev, _ := strconv.Atoi(m.Header.Get(bus.HeaderRev))
			if rev != last[id]+1 {
				t.Fatalf("seq %d: %s rev %d after rev %d", seq, id, rev, last[id])
			}
			last[id] = rev
		}
		if len(last) != ids {
			t.Fatalf("%d articles in the stream, want %d", len(last), ids)
		}
	})
}
