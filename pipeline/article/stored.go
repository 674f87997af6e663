package article

import "fmt"

// FlagRevisionReassigned marks a record a sink stored under another
// revision than the one it arrived with; the message names both.
const FlagRevisionReassigned = "sink.revision_reassigned"

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

// Reassign returns a copy of a stored under rev, flagged with the revision
// it arrived with. a itself is not changed.
func Reassign(a *Article, rev int) *Article {
	c := *a
	c.Rev = rev
	c.Flags = append(append([]Flag(nil), a.Flags...), Flag{
		Stage: StageSink,
		Code:  FlagRevisionReassigned,
		Message: fmt.Sprintf("arrived as rev %d, which the sink holds with other content; stored as rev %d",
			a.Rev, rev),
	})
	c.Trace = append([]TraceStep(nil), a.Trace...)
	return &c
}
