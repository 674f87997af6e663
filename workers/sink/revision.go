package sink

import (
	"fmt"
	"strconv"

	"github.com/dewire/dewire/pipeline/article"
)

// FlagRevisionReassigned marks a record the sink stored under another
// revision than the one it arrived with; the message names both.
const FlagRevisionReassigned = "sink.revision_reassigned"

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

// ResolveRevision is the rule every writer follows for a record (rev, hash)
// of an id of which it holds the revisions held (rev → content hash): dup
// when it holds the record already, else the revision to store it under. A
// free rev is stored as it is, even when an older revision had the same
// text (an article changed back is a new revision). A taken rev with other
// content is a duplicate when some revision holds that content (the
// conflict was resolved before), else it goes to the highest rev + 1.
func ResolveRevision(held map[int]string, rev int, hash string) (store int, dup bool) {
	h, ok := held[rev]
	if !ok {
		return rev, false
	}
	if h == hash {
		return rev, true
	}
	top := 0
	for n, h := range held {
		if h == hash {
			return n, true
		}
		top = max(top, n)
	}
	return top + 1, false
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

// Reassign returns a copy of a stored under rev, flagged with the revision
// it arrived with. a itself is not changed.
func Reassign(a *article.Article, rev int) *article.Article {
	c := *a
	c.Rev = rev
	c.Flags = append(append([]article.Flag(nil), a.Flags...), article.Flag{
		Stage: article.StageSink,
		Code:  FlagRevisionReassigned,
		Message: fmt.Sprintf("arrived as rev %d, which the sink holds with other content; stored as rev %d",
			a.Rev, rev),
	})
	c.Trace = append([]article.TraceStep(nil), a.Trace...)
	return &c
}

func key(id string, rev int) string { return id + "@" + strconv.Itoa(rev) }
