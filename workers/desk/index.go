package desk

import (
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/dewire/dewire/pipeline/article"
)

// Summary is one article in the list and in /api/articles: its latest
// revision as the clean stream holds it.
type Summary struct {
	ID        string    `json:"id"`
	Rev       int       `json:"rev"`
	Seq       uint64    `json:"seq"` // position in ARTICLES_CLEAN; the paging cursor
	Source    string    `json:"source"`
	URL       string    `json:"url,omitempty"`
	Time      time.Time `json:"time"` // published_at, else ingested_at
	TitleDE   string    `json:"title_de"`
	TitleEN   string    `json:"title_en"`
	Edits     int       `json:"edits"`
	Flags     int       `json:"flags"`
	OpenFlags int       `json:"open_flags"`
	FlagCodes []string  `json:"flag_codes"`
	Entities  []string  `json:"entities"` // entity ids
	Revisions []RevRef  `json:"revisions"`
}

// RevRef locates one revision of an article in the clean stream.
type RevRef struct {
	Rev int    `json:"rev"`
	Seq uint64 `json:"seq"`
}

// Filter selects articles; the zero Filter selects all.
type Filter struct {
	Source string
	Flag   string // flag code (open or reviewed)
	Entity string // entity id, or a German or English form
	Date   string // YYYY-MM-DD (UTC) of Time
	Since  time.Time
	Query  string // words that must all occur, in either language
	Before uint64 // cursor: only articles with Seq < Before (0: from the newest)
	Limit  int    // default 50, at most 500
}

type entry struct {
	Summary
	dead  bool            // a later revision replaced it in the list
	day   string          // Time's UTC date, YYYY-MM-DD
	flags []string        // the code of each flag, by index, for the open count
	forms map[string]bool // lower-case entity ids and forms
}

// index holds a summary of every article of the clean stream and a word
// index over both languages; the full records stay in the stream.
type index struct {
	mu       sync.RWMutex
	list     []*entry // in stream order
	byID     map[string]*entry
	words    map[string][]int32 // word → positions in list, ascending
	reviewed map[string]bool    // reviewKey(id, rev, n)
	srcs     map[string]int     // source → articles listed
}

func newIndex() *index {
	return &index{byID: map[string]*entry{}, words: map[string][]int32{}, reviewed: map[string]bool{}, srcs: map[string]int{}}
}

// add indexes one record read at seq and returns its summary.
func (x *index) add(a *article.Article, seq uint64) Summary {
	e := &entry{forms: map[string]bool{}}
	e.ID, e.Rev, e.Seq = a.ID, a.Rev, seq
	e.Source, e.URL = a.Source.Name, a.Source.URL
	e.Time = a.Source.IngestedAt
	if a.Source.PublishedAt != nil {
		e.Time = *a.Source.PublishedAt
	}
	e.day = e.Time.UTC().Format("2006-01-02")
	e.TitleDE = a.DE.Title
	if a.EN != nil {
		e.TitleEN = a.EN.Title
	}
	e.Edits, e.Flags = len(a.Edits), len(a.Flags)
	seen := map[string]bool{}
	for _, f := range a.Flags {
		e.flags = append(e.flags, f.Code)
		if !seen[f.Code] {
			seen[f.Code] = true
			e.FlagCodes = append(e.FlagCodes, f.Code)
		}
	}
	e.FlagCodes = nonNil(e.FlagCodes)
	for _, en := range a.Entities {
		e.Entities = append(e.Entities, en.ID)
		e.forms[strings.ToLower(en.ID)] = true
		e.forms[strings.ToLower(en.DE)] = true
		e.forms[strings.ToLower(en.EN)] = true
	}
	e.Entities = nonNil(e.Entities)

	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.byID[a.ID]; ok {
		if old.Seq > seq || (old.Rev == a.Rev && old.Seq == seq) {
			return old.Summary // an older revision arriving late changes nothing
		}
		old.dead = true
		if x.srcs[old.Source]--; x.srcs[old.Source] <= 0 {
			delete(x.srcs, old.Source)
		}
		e.Revisions = append(e.Revisions, old.Revisions...)
		if n := len(e.Revisions); n > 0 && e.Revisions[n-1].Rev == a.Rev {
			e.Revisions = e.Revisions[:n-1] // the same revision again: the later copy stands
		}
	}
	e.Revisions = append(e.Revisions, RevRef{Rev: a.Rev, Seq: seq})
	pos := int32(len(x.list))
	x.list = append(x.list, e)
	x.byID[a.ID] = e
	x.srcs[e.Source]++
	for w := range articleWords(a) {
		x.words[w] = append(x.words[w], pos)
	}
	e.OpenFlags = x.openLocked(e)
	return e.Summary
}

func (x *index) openLocked(e *entry) int {
	n := 0
	for i := range e.flags {
		if !x.reviewed[reviewKey(e.ID, e.Rev, i)] {
			n++
		}
	}
	return n
}

// setReviewed records that flag n of id@rev was reviewed.
func (x *index) setReviewed(key string, on bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if on {
		x.reviewed[key] = true
	} else {
		delete(x.reviewed, key)
	}
}

func (x *index) isReviewed(id string, rev, n int) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.reviewed[reviewKey(id, rev, n)]
}

// get returns the summary of id's latest revision.
func (x *index) get(id string) (Summary, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	e, ok := x.byID[id]
	if !ok {
		return Summary{}, false
	}
	s := e.Summary
	s.OpenFlags = x.openLocked(e)
	return s, true
}

// Len is how many articles (latest revisions) the index holds.
func (x *index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.byID)
}

// sources lists the sources seen, sorted.
func (x *index) sources() []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]string, 0, len(x.srcs))
	for s := range x.srcs {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Page is one page of a listing, newest first.
type Page struct {
	Articles []Summary `json:"articles"`
	// Next is the cursor of the next (older) page; 0 when this is the last.
	Next uint64 `json:"next_cursor,omitempty"`
}

// find lists the articles f selects, newest first, one page at a time.
func (x *index) find(f Filter) Page {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	x.mu.RLock()
	defer x.mu.RUnlock()
	end := len(x.list)
	if f.Before > 0 {
		end = sort.Search(len(x.list), func(i int) bool { return x.list[i].Seq >= f.Before })
	}
	entity := strings.ToLower(strings.TrimSpace(f.Entity))
	match := func(e *entry) bool {
		if e.dead || (f.Source != "" && e.Source != f.Source) || (entity != "" && !e.forms[entity]) {
			return false
		}
		if f.Date != "" && e.day != f.Date {
			return false
		}
		if !f.Since.IsZero() && e.Time.Before(f.Since) {
			return false
		}
		if f.Flag != "" {
			found := false
			for _, c := range e.FlagCodes {
				found = found || c == f.Flag
			}
			return found
		}
		return true
	}
	out := Page{Articles: []Summary{}}
	take := func(e *entry) bool {
		if !match(e) {
			return true
		}
		if len(out.Articles) == f.Limit {
			out.Next = out.Articles[len(out.Articles)-1].Seq
			return false
		}
		s := e.Summary
		s.OpenFlags = x.openLocked(e)
		out.Articles = append(out.Articles, s)
		return true
	}
	if words := queryWords(f.Query); len(words) > 0 {
		for _, pos := range x.intersect(words, end) {
			if !take(x.list[pos]) {
				break
			}
		}
		return out
	}
	for i := end - 1; i >= 0; i-- {
		if !take(x.list[i]) {
			break
		}
	}
	return out
}

// intersect returns the positions below end holding every word, newest first.
func (x *index) intersect(words []string, end int) []int32 {
	lists := make([][]int32, len(words))
	for i, w := range words {
		l := x.words[w]
		if len(l) == 0 {
			return nil
		}
		lists[i] = l
	}
	sort.Slice(lists, func(i, j int) bool { return len(lists[i]) < len(lists[j]) })
	var out []int32
	for i := len(lists[0]) - 1; i >= 0; i-- {
		pos := lists[0][i]
		if int(pos) >= end {
			continue
		}
		all := true
		for _, l := range lists[1:] {
			j := sort.Search(len(l), func(k int) bool { return l[k] >= pos })
			if j == len(l) || l[j] != pos {
				all = false
				break
			}
		}
		if all {
			out = append(out, pos)
		}
	}
	return out
}

// articleWords is the set of words of both languages of a.
func articleWords(a *article.Article) map[string]struct{} {
	set := map[string]struct{}{}
	add := func(t *article.Text) {
		if t == nil {
			return
		}
		for _, f := range t.Fields("x") {
			for _, w := range splitWords(*f.Text) {
				set[w] = struct{}{}
			}
		}
	}
	add(&a.DE)
	add(a.EN)
	return set
}

func splitWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func queryWords(q string) []string { return splitWords(q) }

func reviewKey(id string, rev, n int) string {
	return "review." + id + "." + itoa(rev) + "." + itoa(n)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
