package article

import (
	"context"
	"sync"
)

// Revision is what a RevisionStore remembers about an id.
type Revision struct {
	Rev  int    `json:"rev"`
	Hash string `json:"hash"`
	// Published is set by Confirm once the revision is safely stored
	// downstream; until then the same content is not a duplicate, so a crash
	// between Assign and publishing cannot lose the article.
	Published bool `json:"published"`
}

// RevisionStore assigns revisions: the first content seen for an id is rev 1,
// different content later is rev n+1, identical content already published is
// a duplicate.
type RevisionStore interface {
	// Assign returns the revision for (id, hash) and whether it is a
	// duplicate of the latest, already published revision.
	Assign(ctx context.Context, id, hash string) (rev int, duplicate bool, err error)
	// Confirm records that (id, rev) has been published.
	Confirm(ctx context.Context, id string, rev int) error
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
	next, dup := NextRevision(cur, ok, hash)
	m.revs[id] = next
	return next.Rev, dup, nil
}

// Confirm implements RevisionStore.
func (m *MemoryRevisions) Confirm(_ context.Context, id string, rev int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.revs[id]; ok && cur.Rev == rev {
		cur.Published = true
		m.revs[id] = cur
	}
	return nil
}

// NextRevision is the revision rule shared by every RevisionStore: given the
// current state (exists false for a new id) and the new content hash, it
// returns the new state and whether the content is a duplicate.
func NextRevision(cur Revision, exists bool, hash string) (Revision, bool) {
	if exists && cur.Hash == hash {
		return cur, cur.Published
	}
	return Revision{Rev: cur.Rev + 1, Hash: hash}, false
}
