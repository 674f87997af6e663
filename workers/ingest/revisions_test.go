package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
)

// TestConcurrentRevisionsOfOneArticle has many replicas assign revisions
// to one id at once, each with different content, on a revisions bucket of
// one replica and of three (where the server reports a compare-and-set
// conflict with another error code).
func TestConcurrentRevisionsOfOneArticle(t *testing.T) {
	const writers = 16
	for _, replicas := range []int{1, 3} {
		t.Run(fmt.Sprintf("replicas=%d", replicas), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var js jetstream.JetStream
			if replicas == 1 {
				js = natstest.Server(t).JetStream()
			} else {
				js = natstest.Cluster(t, 3).JetStream()
			}
			topo := bus.DefaultTopology()
			topo.Replicas = replicas
			if err := topo.Ensure(ctx, js); err != nil {
				t.Fatal(err)
			}

			var wg sync.WaitGroup
			revs := make([]int, writers)
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// One store per writer, as one per ingest replica.
					r, err := ingest.NewKVRevisions(ctx, js, bus.BucketRevisions)
					if err != nil {
						t.Error(err)
						return
					}
					rev, dup, err := r.Assign(ctx, "one-article", fmt.Sprintf("hash-%02d", i))
					if err != nil || dup {
						t.Errorf("writer %d: rev %d dup %v err %v", i, rev, dup, err)
					}
					revs[i] = rev
				}()
			}
			wg.Wait()
			seen := map[int]int{}
			for _, rev := range revs {
				seen[rev]++
			}
			for rev := 1; rev <= writers; rev++ {
				if seen[rev] != 1 {
					t.Errorf("revision %d assigned %d times (all: %v)", rev, seen[rev], revs)
				}
			}
		})
	}
}

// TestRevisionCallsHaveTheirOwnDeadline makes every request to the
// revisions bucket go unanswered, as while its leader moves away (the
// stream is gone; subscribers that never reply hold its subjects), and
// calls Assign, Confirm and Seed under a context that allows minutes: each
// must give up after the store's own timeout, so the publish is retried.
func TestRevisionCallsHaveTheirOwnDeadline(t *testing.T) {
	n := natstest.Server(t)
	js := n.JetStream()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := bus.DefaultTopology().Ensure(ctx, js); err != nil {
		t.Fatal(err)
	}
	r, err := ingest.NewKVRevisions(ctx, js, bus.BucketRevisions)
	if err != nil {
		t.Fatal(err)
	}
	r.Timeout = 300 * time.Millisecond
	if err := js.DeleteKeyValue(ctx, bus.BucketRevisions); err != nil {
		t.Fatal(err)
	}
	nc := js.Conn()
	stream := "KV_" + bus.BucketRevisions
	for _, subj := range []string{"$KV." + bus.BucketRevisions + ".>", "$JS.API.DIRECT.GET." + stream, "$JS.API.DIRECT.GET." + stream + ".>", "$JS.API.STREAM.MSG.GET." + stream} {
		sub, err := nc.Subscribe(subj, func(*nats.Msg) {})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"Assign":  func() error { _, _, err := r.Assign(ctx, "silent", "hash"); return err },
		"Confirm": func() error { return r.Confirm(ctx, "silent", 1) },
		"Seed":    func() error { return r.Seed(ctx, "silent", 1, "hash") },
	} {
		done := make(chan error, 1)
		go func() { done <- call() }()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s = %v, want an error wrapping context.DeadlineExceeded", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s still waits after 30s with a 300ms per-call timeout", name)
		}
	}
}
