package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/pipeline/article"
)

// KVRevisions is an article.RevisionStore on a JetStream KV bucket, safe for
// any number of ingest replicas: every change is a compare-and-set.
type KVRevisions struct {
	kv jetstream.KeyValue

	mu      sync.Mutex
	pending map[string]pendingRev // assigned, not yet confirmed
}

type pendingRev struct {
	rev  int
	hash string
	seq  uint64 // KV revision of the entry Assign wrote or read
}

// NewKVRevisions binds the bucket, which the topology must have created.
func NewKVRevisions(ctx context.Context, js jetstream.JetStream, bucket string) (*KVRevisions, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("revisions bucket %s: %w", bucket, err)
	}
	return &KVRevisions{kv: kv, pending: map[string]pendingRev{}}, nil
}

func (r *KVRevisions) remember(id string, rev int, hash string, seq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending[id] = pendingRev{rev: rev, hash: hash, seq: seq}
}

func (r *KVRevisions) recall(id string, rev int) (pendingRev, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pending[id]
	delete(r.pending, id)
	return p, ok && p.rev == rev
}

// Assign implements article.RevisionStore. A new id costs one write (the
// optimistic create); a known id one read and at most one write.
func (r *KVRevisions) Assign(ctx context.Context, id, hash string) (int, bool, error) {
	first, _ := json.Marshal(article.Revision{Rev: 1, Hash: hash})
	for attempt := 0; attempt < 32; attempt++ {
		if attempt == 0 {
			seq, err := r.kv.Create(ctx, id, first)
			if err == nil {
				r.remember(id, 1, hash, seq)
				return 1, false, nil
			}
			if !isConflict(err) {
				return 0, false, fmt.Errorf("assign revision for %s: %w", id, err)
			}
		}
		cur, seq, exists, err := r.get(ctx, id)
		if err != nil {
			return 0, false, err
		}
		next, dup := article.NextRevision(cur, exists, hash)
		if exists && next == cur {
			r.remember(id, cur.Rev, hash, seq)
			return cur.Rev, dup, nil
		}
		b, _ := json.Marshal(next)
		var nseq uint64
		if exists {
			nseq, err = r.kv.Update(ctx, id, b, seq)
		} else {
			nseq, err = r.kv.Create(ctx, id, b)
		}
		if err == nil {
			r.remember(id, next.Rev, hash, nseq)
			return next.Rev, false, nil
		}
		if !isConflict(err) {
			return 0, false, fmt.Errorf("assign revision for %s: %w", id, err)
		}
	}
	return 0, false, fmt.Errorf("assign revision for %s: too much contention", id)
}

// Confirm implements article.RevisionStore. It writes against the KV
// revision Assign saw, so the common case costs one write and no read.
func (r *KVRevisions) Confirm(ctx context.Context, id string, rev int) error {
	if p, ok := r.recall(id, rev); ok {
		b, _ := json.Marshal(article.Revision{Rev: rev, Hash: p.hash, Published: true})
		if _, err := r.kv.Update(ctx, id, b, p.seq); err == nil {
			return nil
		} else if !isConflict(err) {
			return fmt.Errorf("confirm %s@%d: %w", id, rev, err)
		}
	}
	for attempt := 0; attempt < 32; attempt++ {
		cur, seq, exists, err := r.get(ctx, id)
		if err != nil {
			return err
		}
		if !exists || cur.Rev != rev || cur.Published {
			return nil
		}
		cur.Published = true
		b, _ := json.Marshal(cur)
		if _, err := r.kv.Update(ctx, id, b, seq); err == nil {
			return nil
		} else if !isConflict(err) {
			return fmt.Errorf("confirm %s@%d: %w", id, rev, err)
		}
	}
	return fmt.Errorf("confirm %s@%d: too much contention", id, rev)
}

func (r *KVRevisions) get(ctx context.Context, id string) (article.Revision, uint64, bool, error) {
	e, err := r.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return article.Revision{}, 0, false, nil
	}
	if err != nil {
		return article.Revision{}, 0, false, fmt.Errorf("revision of %s: %w", id, err)
	}
	var cur article.Revision
	if err := json.Unmarshal(e.Value(), &cur); err != nil {
		return article.Revision{}, 0, false, fmt.Errorf("revision of %s: corrupt entry: %w", id, err)
	}
	return cur, e.Revision(), true, nil
}

func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
		return true
	}
	return errors.Is(err, jetstream.ErrKeyExists)
}
