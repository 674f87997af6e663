package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/bus"
)

// KVRevisions is an article.RevisionStore on a JetStream KV bucket, safe for
// any number of ingest replicas: every change is a compare-and-set.
type KVRevisions struct {
	kv jetstream.KeyValue
	// Timeout bounds each call to the bucket (default bus.RequestTimeout),
	// so a write whose answer is lost while the bucket's leader moves
	// returns an error to retry instead of waiting as long as ctx.
	Timeout time.Duration

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
	return &KVRevisions{kv: kv, Timeout: bus.RequestTimeout, pending: map[string]pendingRev{}}, nil
}

// call returns ctx bounded by the per-call timeout.
func (r *KVRevisions) call(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.Timeout <= 0 {
		return context.WithTimeout(ctx, bus.RequestTimeout)
	}
	return context.WithTimeout(ctx, r.Timeout)
}

func (r *KVRevisions) create(ctx context.Context, id string, b []byte) (uint64, error) {
	ctx, cancel := r.call(ctx)
	defer cancel()
	return r.kv.Create(ctx, id, b)
}

func (r *KVRevisions) update(ctx context.Context, id string, b []byte, seq uint64) (uint64, error) {
	ctx, cancel := r.call(ctx)
	defer cancel()
	return r.kv.Update(ctx, id, b, seq)
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
			seq, err := r.create(ctx, id, first)
			if err == nil {
				r.remember(id, 1, hash, seq)
				return 1, false, nil
			}
			if !retryWrite(ctx, err) {
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
			nseq, err = r.update(ctx, id, b, seq)
		} else {
			nseq, err = r.create(ctx, id, b)
		}
		if err == nil {
			r.remember(id, next.Rev, hash, nseq)
			return next.Rev, false, nil
		}
		if !retryWrite(ctx, err) {
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
		if _, err := r.update(ctx, id, b, p.seq); err == nil {
			return nil
		} else if !retryWrite(ctx, err) {
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
		if _, err := r.update(ctx, id, b, seq); err == nil {
			return nil
		} else if !retryWrite(ctx, err) {
			return fmt.Errorf("confirm %s@%d: %w", id, rev, err)
		}
	}
	return fmt.Errorf("confirm %s@%d: too much contention", id, rev)
}

func (r *KVRevisions) get(ctx context.Context, id string) (article.Revision, uint64, bool, error) {
	cctx, cancel := r.call(ctx)
	defer cancel()
	e, err := r.kv.Get(cctx, id)
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

// errCodeLastSeqNotReady is the server's "expected last sequence per
// subject temporarily unavailable" (503) on a replicated stream: the
// compare-and-set could not be checked yet and is worth retrying.
const errCodeLastSeqNotReady jetstream.ErrorCode = 10163

// isConflict reports whether a compare-and-set write lost to another
// writer. A single-replica stream answers "wrong last sequence" with code
// 10071; a replicated one, when the competing write is still in flight,
// with 10164; the KV client wraps either in ErrKeyExists (Create) or
// ErrKeyRevisionMismatch (Update).
func isConflict(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return true
	}
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode {
	case jetstream.JSErrCodeStreamWrongLastSequence, jetstream.JSErrCodeStreamWrongLastSequenceConstant:
		return true
	}
	return false
}

// notReady reports whether the server could not check a compare-and-set
// yet; the write is retried after a short wait.
func notReady(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeLastSeqNotReady
}

// retryWrite reports whether a failed compare-and-set write should be
// tried again from a fresh read, pausing briefly when the server was not
// ready; it returns false for any other error or when ctx ends.
func retryWrite(ctx context.Context, err error) bool {
	if isConflict(err) {
		return true
	}
	if !notReady(err) {
		return false
	}
	t := time.NewTimer(time.Duration(10+rand.IntN(40)) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
