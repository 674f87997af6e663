package article

import (
	"context"
	"sync"
)

// Revision is what a RevisionStore remembers about an id.
type Revision struct {
	Rev  int    `json:"rev"`
	Hash string `json:"hash"`
}

// RevisionStore assigns revisions: the first content seen for an id is rev 1,
// different content later is rev n+1, identical content is a duplicate.
type RevisionStore interface {
	// Assign returns the revision for (id, hash) and whether it is a duplicate
	// of the latest revision already assigned.
	Assign(ctx context.Context, id, hash string) (rev int, duplicate bool, err error)
}

// MemoryRevisions is an in-process RevisionStore; the zero value is ready to use.
type MemoryRevisions struct {
	mu   sync.Mutex
	revs map[string]Revision
}

// Assign implements RevisionStore.
func (m *MemoryRevisions) Assign(_ context.Context, id, hash string) (int, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.revs == nil {
		m.revs = make(map[string]Revision)
	}
	cur, ok := m.revs[id]
	if ok && cur.Hash == hash {
		return cur.Rev, true, nil
	}
	next := Revision{Rev: cur.Rev + 1, Hash: hash}
	m.revs[id] = next
	return next.Rev, false, nil
}
