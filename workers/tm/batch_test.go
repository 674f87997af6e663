package tm_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/workers/tm"
)

func TestBatchReadsAndWrites(t *testing.T) {
	ctx := context.Background()
	m, err := tm.NewKV(ctx, withJS(t), "tm_batch")
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
}
