package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/pipeline/article"
)

// KVRevisions is an article.RevisionStore on a JetStream KV bucket, safe for
// any number of ingest replicas: every change is a compare-and-set.
type KVRevisions struct {
	kv jetstream.KeyValue
}

// NewKVRevisions binds the bucket, which the topology must have created.
func NewKVRevisions(ctx context.Context, js jetstream.JetStream, bucket string) (*KVRevisions, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("revisions bucket %s: %w", bucket, err)
	}
	return &KVRevisions{kv: kv}, nil
}

// Assign implements article.RevisionStore.
func (r *KVRevisions) Assign(ctx context.Context, id, hash string) (int, bool, error) {
	for attempt := 0; attempt < 32; attempt++ {
		cur, seq, exists, err := r.get(ctx, id)
		if err != nil {
			return 0, false, err
		}
		next, dup := article.NextRevision(cur, exists, hash)
		if exists && next == cur {
			return cur.Rev, dup, nil
		}
		b, _ := json.Marshal(next)
		if exists {
			_, err = r.kv.Update(ctx, id, b, seq)
		} else {
			_, err = r.kv.Create(ctx, id, b)
		}
		if err == nil {
			return next.Rev, false, nil
		}
		if !isConflict(err) {
			return 0, false, fmt.Errorf("assign revision for %s: %w", id, err)
		}
	}
	return 0, false, fmt.Errorf("assign revision for %s: too much contention", id)
}

// Confirm implements article.RevisionStore.
func (r *KVRevisions) Confirm(ctx context.Context, id string, rev int) error {
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
