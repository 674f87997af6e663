package ingest

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dewire/dewire/pipeline/article"
)

// Seed implements Seeder: it writes (rev, hash) as published when the
// bucket has no entry for id, so the next different content becomes rev+1.
func (r *KVRevisions) Seed(ctx context.Context, id string, rev int, hash string) error {
	b, _ := json.Marshal(article.Revision{Rev: rev, Hash: hash, Published: true})
	if _, err := r.create(ctx, id, b); err != nil && !isConflict(err) {
		return fmt.Errorf("seed revision of %s: %w", id, err)
	}
	return nil
}
