package ingest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

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
