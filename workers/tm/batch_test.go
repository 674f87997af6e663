package tm_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/workers/tm"
)

// onBoth runs f with a bucket of one replica on a single server and with a
// bucket of three replicas on a three-node cluster.
func onBoth(t *testing.T, bucket string, f func(t *testing.T, js jetstream.JetStream)) {
	for _, replicas := range []int{1, 3} {
		t.Run(fmt.Sprintf("replicas=%d", replicas), func(t *testing.T) {
			var js jetstream.JetStream
			if replicas == 1 {
				js = natstest.Server(t).JetStream()
			} else {
				js = natstest.Cluster(t, 3).JetStream()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, History: 1, Replicas: replicas}); err != nil {
				t.Fatal(err)
			}
			f(t, js)
		})
	}
}

func TestBatchReadsAndWrites(t *testing.T) {
	onBoth(t, "tm_batch", func(t *testing.T, js jetstream.JetStream) {
		ctx := context.Background()
		m, err := tm.NewKV(ctx, js, "tm_batch")
		if err != nil {
			t.Fatal(err)
		}
		var _ mt.BatchMemory = m
		entries := map[string]string{}
		var keys []string
		for i := range 300 { // more than one batch of 256
			k := mt.MemoryKey("deepl", "EN-US", fmt.Sprintf("Satz %d.", i))
			keys = append(keys, k)
			if i%3 != 0 {
				entries[k] = fmt.Sprintf("Sentence %d.", i)
			}
		}
		if err := m.PutMany(ctx, entries); err != nil {
			t.Fatal(err)
		}
		got, err := m.GetMany(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(entries) {
			t.Fatalf("%d entries read, %d written", len(got), len(entries))
		}
		for k, v := range entries {
			if got[k] != v {
				t.Fatalf("%s = %q, want %q", k, got[k], v)
			}
			if one, ok, err := m.Get(ctx, k); err != nil || !ok || one != v {
				t.Fatalf("single get of %s = %q %v %v", k, one, ok, err)
			}
		}

		t.Run("no key present answers an empty result, not an error", func(t *testing.T) {
			got, err := m.GetMany(ctx, []string{mt.MemoryKey("x", "y", "nie gesehen")})
			if err != nil || len(got) != 0 {
				t.Fatalf("%v %v", got, err)
			}
		})
		t.Run("a bad key is refused", func(t *testing.T) {
			if _, err := m.GetMany(ctx, []string{"not hex!"}); err == nil {
				t.Fatal("accepted")
			}
		})
		t.Run("concurrent reads each get their own answers", func(t *testing.T) {
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					mine := keys[g*30 : g*30+30]
					for range 5 {
						got, err := m.GetMany(ctx, mine)
						if err != nil {
							t.Error(err)
							return
						}
						for _, k := range mine {
							if got[k] != entries[k] {
								t.Errorf("reader %d: %s = %q, want %q", g, k, got[k], entries[k])
								return
							}
						}
						if len(got) != 20 { // every third key was never written
							t.Errorf("reader %d got %d entries, want 20", g, len(got))
							return
						}
					}
				}()
			}
			wg.Wait()
		})
		t.Run("a batched read does not allocate a subscription buffer", func(t *testing.T) {
			// A synchronous subscription per read allocates a 65,536-slot
			// channel (512 KiB) each time; replies share one subscription.
			const reads = 20
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range reads {
				if _, err := m.GetMany(ctx, keys[:10]); err != nil {
					t.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			per := (after.TotalAlloc - before.TotalAlloc) / reads
			t.Logf("a batched read of 10 keys allocates %d bytes", per)
			if per >= 256<<10 {
				t.Errorf("a read of 10 keys allocated %d bytes", per)
			}
			subs := js.Conn().NumSubscriptions()
			for range 5 {
				if _, err := m.GetMany(ctx, keys[:10]); err != nil {
					t.Fatal(err)
				}
			}
			if n := js.Conn().NumSubscriptions(); n != subs {
				t.Errorf("subscriptions went from %d to %d over 5 reads", subs, n)
			}
		})
	})
}

// returns runs f and fails the test if it has not returned within a minute.
func returns(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("%s never returned", what)
		return nil
	}
}

// TestUnansweredRequestsTimeOut binds the bucket, then makes every request
// to it go unanswered, as while its leader moves away: the stream is gone
// and subscribers that never reply hold the subjects, so there is interest
// but no answer.
func TestUnansweredRequestsTimeOut(t *testing.T) {
	onBoth(t, "tm_silent", func(t *testing.T, js jetstream.JetStream) {
		ctx := context.Background()
		// The first write, with the bucket answering, may take long on a
		// loaded machine; only the silent calls get the short timeout.
		first, err := tm.NewKV(ctx, js, "tm_silent")
		if err != nil {
			t.Fatal(err)
		}
		key := mt.MemoryKey("deepl", "EN-US", "Guten Morgen.")
		// A bucket just created on a cluster may answer "no response from
		// stream" until its leader is elected.
		natstest.Eventually(t, 30*time.Second, "the new bucket takes a write", func() bool {
			return first.PutMany(ctx, map[string]string{key: "Good morning."}) == nil
		})
		m, err := tm.NewKV(ctx, js, "tm_silent", tm.WithTimeout(500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if err := js.DeleteKeyValue(ctx, "tm_silent"); err != nil {
			t.Fatal(err)
		}
		nc := js.Conn()
		for _, subj := range []string{"$KV.tm_silent.>", "$JS.API.DIRECT.GET.KV_tm_silent", "$JS.API.DIRECT.GET.KV_tm_silent.>"} {
			sub, err := nc.Subscribe(subj, func(*nats.Msg) {})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sub.Unsubscribe() })
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}

		check := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, tm.ErrTimeout) {
				t.Errorf("%s = %v, want tm.ErrTimeout", what, err)
			}
		}
		check("PutMany", returns(t, "PutMany", func() error {
			return m.PutMany(ctx, map[string]string{key: "Good morning!"})
		}))
		check("GetMany", returns(t, "GetMany", func() error {
			_, err := m.GetMany(ctx, []string{key})
			return err
		}))
		check("Put", returns(t, "Put", func() error { return m.Put(ctx, key, "Good morning!") }))
		check("Get", returns(t, "Get", func() error {
			_, _, err := m.Get(ctx, key)
			return err
		}))
	})
}
