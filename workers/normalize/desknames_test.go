package normalize_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/pipeline/article"
	pnorm "github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/bus"
	wnorm "github.com/dewire/dewire/workers/normalize"
	"github.com/dewire/dewire/workers/stage"
)

func TestDeskNamesFollowTheBucketWithoutARestart(t *testing.T) {
	js := natstest.Server(t).JetStream()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topo := bus.DefaultTopology()
	topo.Storage = jetstream.MemoryStorage
	if err := topo.Ensure(ctx, js); err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, bus.BucketDeskNames)
	if err != nil {
		t.Fatal(err)
	}
	// A name stored before the watcher starts is applied too.
	if _, err := kv.Put(ctx, wnorm.DeskNamePrefix+"hans-wurstl", []byte(`{"de":"Hans Würstel","en":"Hans Wurstl","kind":"person","aliases":["Hans Wurstel"]}`)); err != nil {
		t.Fatal(err)
	}
	desk := &pnorm.DeskNames{}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- wnorm.WatchDeskNames(wctx, stage.Env{JS: js}, desk) }()
	defer func() { stop(); <-done }()
	natstest.Eventually(t, 10*time.Second, "the stored name", func() bool { return desk.Len() == 1 })

	en, err := pnorm.New("en")
	if err != nil {
		t.Fatal(err)
	}
	a := &article.Article{EN: &article.Text{Title: "Hans Wurstel spoke."}}
	en.Apply(a, desk)
	if a.EN.Title != "Hans Wurstl spoke." {
		t.Errorf("title %q, want the desk's English form", a.EN.Title)
	}

	if _, err := kv.Put(ctx, wnorm.DeskNamePrefix+"anna-musterfrau", []byte(`{"de":"Anna Musterfrau","en":"Anna Musterfrau","aliases":["Ana Musterfrau"]}`)); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 10*time.Second, "the added name", func() bool { return desk.Len() == 2 })
	if err := kv.Delete(ctx, wnorm.DeskNamePrefix+"hans-wurstl"); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 10*time.Second, "the deleted name to go", func() bool { return desk.Len() == 1 })
	b := &article.Article{EN: &article.Text{Title: "Hans Wurstel spoke."}}
	en.Apply(b, desk)
	if b.EN.Title != "Hans Wurstel spoke." {
		t.Errorf("a deleted name is still applied: %q", b.EN.Title)
	}
}
