package sink

import "github.com/dewire/dewire/pipeline/article"

// FlagRevisionReassigned marks a record the sink stored under another
// revision than the one it arrived with; the message names both.
const FlagRevisionReassigned = article.FlagRevisionReassigned

// A record can arrive under an (id, rev) the sink already holds with other
// content: a pipeline whose revision store was lost starts counting at 1
// again while --out still holds the earlier revisions. Every writer resolves
// that the same way (see revisions.resolve): the new content is stored under
// the next free revision, flagged, rather than dead-lettered with
// sink.conflict. A dead letter would park new content until an operator
// replays it, and the replay would meet the same conflict; the next free
// revision loses nothing, keeps revisions ordered by arrival, and the flag
// tells the desk what happened.

// revisions is what a writer holds: id → rev → content hash.
type revisions map[string]map[int]string

func (r revisions) add(id string, rev int, hash string) {
	if r[id] == nil {
		r[id] = map[int]string{}
	}
	r[id][rev] = hash
}

func (r revisions) has(id string, rev int) bool {
	_, ok := r[id][rev]
	return ok
}

// resolve applies ResolveRevision to what the writer holds for id.
func (r revisions) resolve(id string, rev int, hash string) (store int, dup bool) {
	return ResolveRevision(r[id], rev, hash)
}

// latest is the highest revision held for id.
func (r revisions) latest(id string) (rev int, hash string, ok bool) {
	for n, h := range r[id] {
		if n > rev {
			rev, hash, ok = n, h, true
		}
	}
	return rev, hash, ok
}

// ResolveRevision is article.ResolveRevision, the rule every writer follows.
func ResolveRevision(held map[int]string, rev int, hash string) (store int, dup bool) {
	return article.ResolveRevision(held, rev, hash)
}

// Reassign is article.Reassign.
func Reassign(a *article.Article, rev int) *article.Article { return article.Reassign(a, rev) }
