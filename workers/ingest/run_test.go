package ingest_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
	"github.com/dewire/dewire/workers/stage"
)

func TestRecordsTheServerCannotCarryAreRejectedAtOnce(t *testing.T) {
	const maxPayload = 64 << 10
	js := natstest.Server(t, natstest.MaxPayload(maxPayload)).JetStream()
	ctx := context.Background()
	if err := bus.DefaultTopology().Ensure(ctx, js); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	outcomes := map[string]ingest.Outcome{}
	g, err := ingest.New(ctx, stage.Env{JS: js, Concurrency: 2}, ingest.Options{
		Reader: &intake.Reader{Limits: intake.Limits{MaxBytes: 1 << 20}},
		Events: ingest.Events{Outcome: func(it intake.Item, out ingest.Outcome) {
			mu.Lock()
			defer mu.Unlock()
			id := ""
			if it.Reject != nil {
				id = it.Reject.ID
			} else {
				id = it.Article.ID
			}
			outcomes[id] = out
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	t.Run("the article limit is lowered to fit the server", func(t *testing.T) {
		if got := g.Reader().Limits.MaxBytes; got != maxPayload/8 {
			t.Fatalf("article limit %d with max_payload %d", got, maxPayload)
		}
	})
	t.Run("a record larger than max_payload becomes a rejection with the reason", func(t *testing.T) {
		big := &article.Article{ID: "big", Hash: "h", Source: article.Source{Name: "wire"},
			DE: article.Text{Title: "Bericht", Paragraphs: []string{strings.Repeat("Sehr langer Satz über die Lage. ", 4000)}}}
		if err := g.Submit(ctx, intake.Item{Article: big}); err != nil {
			t.Fatal(err)
		}
		g.Flush()
		mu.Lock()
		got := outcomes["big"]
		mu.Unlock()
		if got != ingest.Rejected {
			t.Fatalf("outcome %v, want rejected", got)
		}
		st, err := js.Stream(ctx, bus.StreamRejected)
		if err != nil {
			t.Fatal(err)
		}
		m, err := st.GetLastMsgForSubject(ctx, "articles.rejected.wire")
		if err != nil {
			t.Fatal(err)
		}
		var rec article.Article
		if err := json.Unmarshal(m.Data, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Reject == nil || rec.Reject.Code != intake.CodeTooLarge || !strings.Contains(rec.Reject.Reason, "max_payload") {
			t.Fatalf("rejection %+v", rec.Reject)
		}
		raw, _ := js.Stream(ctx, bus.StreamRaw)
		info, _ := raw.Info(ctx)
		if info.State.Msgs != 0 {
			t.Fatalf("%d messages reached articles.raw", info.State.Msgs)
		}
	})
}
