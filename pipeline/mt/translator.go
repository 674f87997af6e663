package mt

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/segment"
)

// Flag codes the Translator adds to an article.
const (
	FlagEntityMismatch    = "entity.mismatch"    // an entity's English form is missing from its sentence
	FlagEntityUnprotected = "entity.unprotected" // the engine dropped placeholders; translated without protection
)

// Edit rule for an entity whose German form the engine copied into the English.
const RuleEntityRepair = "entity.repair"

// Retry bounds the retries of one engine request that failed with ErrRetryable.
type Retry struct {
	Attempts int           // tries including the first; 0 means 5
	Base     time.Duration // first backoff; 0 means 500ms
	Max      time.Duration // longest computed backoff; 0 means 30s
	Budget   time.Duration // total wait per request; 0 means 2m
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 5
	}
	if r.Base <= 0 {
		r.Base = 500 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 30 * time.Second
	}
	if r.Budget <= 0 {
		r.Budget = 2 * time.Minute
	}
	return r
}

// backoff is exponential with jitter in [d/2, d).
func (r Retry) backoff(attempt int) time.Duration {
	d := r.Base << min(attempt-1, 20)
	if d <= 0 || d > r.Max {
		d = r.Max
	}
	return d/2 + rand.N(d/2+1)
}

// Stats says what one article cost.
type Stats struct {
	Segments     int // sentences in the article
	FromMemory   int // served by the memory
	Translated   int // translated by the engine in this call
	Requests     int // engine requests, retries included
	Retries      int
	SentChars    int // characters (code points) sent to the engine, retries included
	BilledChars  int // characters the engine says it billed
	MemoryErrors int // memory lookups or stores that failed (treated as misses)
}

// Translator turns an article's German text into English through an Engine,
// sentence by sentence, with a translation memory in front. One Translator
// is shared by all articles a worker handles; its concurrency and rate
// limits apply to the engine across them. Set the fields before first use.
type Translator struct {
	Engine Engine
	Memory Memory // nil: no memory
	Retry  Retry
	// Concurrency bounds engine requests in flight; 0 means 4.
	Concurrency int
	// Rate bounds engine requests per second; 0 means unlimited.
	Rate  rate.Limit
	Burst int // 0 means 1
	// OnProgress is called after each engine batch, before each retry wait
	// and every Heartbeat while a request is in flight, so a worker can send
	// InProgress heartbeats. It is always called on the caller's goroutine.
	OnProgress func()
	Heartbeat  time.Duration // 0 means 10s

	// sleep waits d before a retry, or returns ctx's error; nil means a
	// timer. Tests set it to see the waits without waiting.
	sleep func(ctx context.Context, d time.Duration) error

	once sync.Once
	sem  chan struct{}
	lim  *rate.Limiter
}

func (t *Translator) init() {
	t.once.Do(func() {
		n := t.Concurrency
		if n <= 0 {
			n = 4
		}
		t.sem = make(chan struct{}, n)
		if t.Rate > 0 {
			b := t.Burst
			if b <= 0 {
				b = 1
			}
			t.lim = rate.NewLimiter(t.Rate, b)
		}
	})
}

// Translate fills a.EN, a.Segments and a.Engine. With the None engine it
// leaves the English empty and flags the record translation.skipped.
func (t *Translator) Translate(ctx context.Context, a *article.Article) error {
	_, err := t.TranslateArticle(ctx, a, nil)
	return err
}

// item is one sentence of one field.
type item struct {
	field int // index into fields
	span  segment.Span
	key   string
}

// TranslateArticle is Translate with a per-article progress hook (called
// like OnProgress) and the article's costs. On ErrQuota and ErrAuth it
// returns at once; on ErrRetryable it retries within t.Retry and then
// returns the error. The article is changed only on success.
func (t *Translator) TranslateArticle(ctx context.Context, a *article.Article, onProgress func()) (Stats, error) {
	t.init()
	var st Stats
	eng := t.Engine
	if eng == nil {
		eng = None{}
	}
	if eng.Name() == "none" {
		a.Engine = &article.Engine{Name: "none"}
		if !a.HasFlag(article.FlagTranslationSkipped) {
			a.AddFlag(article.Flag{Stage: article.StageTranslate, Code: article.FlagTranslationSkipped, Message: NoneHint})
		}
		return st, nil
	}
	progress := func() {
		if t.OnProgress != nil {
			t.OnProgress()
		}
		if onProgress != nil {
			onProgress()
		}
	}

	en := &article.Text{Paragraphs: make([]string, len(a.DE.Paragraphs))}
	fields := pairFields(a, en)
	var items []item
	for fi, f := range fields {
		for _, sp := range segment.Split("de", f.de) {
			items = append(items, item{field: fi, span: sp, key: MemoryKey(eng.Name(), eng.Model(), sp.Text)})
		}
	}
	st.Segments = len(items)

	// Look up each distinct sentence once, concurrently; the misses go to the engine.
	got := make(map[string]string, len(items))
	fromMemory := make(map[string]bool)
	var keys, texts []string
	for _, it := range items {
		if _, seen := got[it.key]; seen {
			continue
		}
		got[it.key] = ""
		keys = append(keys, it.key)
		texts = append(texts, it.span.Text)
	}
	var missKeys []string
	var missText []string
	hits, found, errs := t.lookup(ctx, keys)
	if ctx.Err() != nil {
		return st, fmt.Errorf("translate %s: %w", a.Key(), ctx.Err())
	}
	st.MemoryErrors += errs
	for i, k := range keys {
		if found[i] {
			got[k] = hits[i]
			fromMemory[k] = true
			continue
		}
		missKeys = append(missKeys, k)
		missText = append(missText, texts[i])
	}

	glossary := articleGlossary(a)
	unprotected := make(map[string]bool)
	for _, b := range Batches(missText, eng.Limits()) {
		req := Request{SourceLang: "de", TargetLang: "en", Segments: missText[b.Start:b.End], Glossary: glossaryFor(glossary, missText[b.Start:b.End])}
		res, err := t.call(ctx, eng, req, &st, progress)
		if err != nil {
			return st, fmt.Errorf("translate %s: %w", a.Key(), err)
		}
		if len(res.Translations) != len(req.Segments) {
			return st, fmt.Errorf("translate %s: %w", a.Key(), &Error{Engine: eng.Name(), Class: ErrPermanent,
				Message: fmt.Sprintf("engine returned %d translations for %d segments", len(res.Translations), len(req.Segments))})
		}
		st.BilledChars += res.BilledChars
		for _, u := range res.Unprotected {
			if u >= 0 && u < len(req.Segments) {
				unprotected[missKeys[b.Start+u]] = true
			}
		}
		var store []int
		for i, tr := range res.Translations {
			key := missKeys[b.Start+i]
			got[key] = tr
			if !unprotected[key] {
				store = append(store, i)
			}
		}
		st.MemoryErrors += t.store(ctx, store, func(i int) (string, string) {
			return missKeys[b.Start+i], res.Translations[i]
		})
		progress()
	}

	// Assemble the English fields, repairing and checking entities.
	segs := make([]article.Segment, 0, len(items))
	var flags []article.Flag
	var edits []article.Edit
	builders := make([]strings.Builder, len(fields))
	last := make([]int, len(fields)) // end of the previous span in the German field
	for _, it := range items {
		f := fields[it.field]
		b := &builders[it.field]
		b.WriteString(f.de[last[it.field]:it.span.Start])
		name := f.name
		out, e, fl := checkEntities(it.span.Text, got[it.key], glossary, name, b.Len())
		edits = append(edits, e...)
		flags = append(flags, fl...)
		if unprotected[it.key] {
			flags = append(flags, article.Flag{Stage: article.StageTranslate, Code: FlagEntityUnprotected, Field: name, Offset: b.Len(),
				Message: "the engine lost the entity placeholders; sentence translated without protection"})
		}
		b.WriteString(out)
		last[it.field] = it.span.End
		segs = append(segs, article.Segment{Para: f.para, DE: it.span.Text, EN: out, FromMemory: fromMemory[it.key]})
		if fromMemory[it.key] {
			st.FromMemory++
		} else {
			st.Translated++
		}
	}
	for fi, f := range fields {
		if last[fi] > 0 {
			builders[fi].WriteString(f.de[last[fi]:])
		}
		*f.en = builders[fi].String()
	}

	a.EN = en
	a.Segments = segs
	a.Edits = append(dropStage(a.Edits), edits...)
	a.Flags = append(dropFlags(a.Flags), flags...)
	a.Engine = &article.Engine{Name: eng.Name(), Model: eng.Model(), Segments: st.Segments,
		FromMemory: st.FromMemory, Translated: st.Translated, BilledChars: st.BilledChars, SentChars: st.SentChars}
	return st, nil
}

// call sends one request, waiting for the concurrency and rate limits and
// retrying retryable failures with backoff.
func (t *Translator) call(ctx context.Context, eng Engine, req Request, st *Stats, progress func()) (Result, error) {
	pol := t.Retry.withDefaults()
	chars := 0
	for _, s := range req.Segments {
		chars += utf8.RuneCountInString(s)
	}
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		res, err := t.sendBeating(ctx, eng, req, progress)
		if err == nil || ctx.Err() == nil {
			st.Requests++
			st.SentChars += chars
		}
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		if !retryable(err) {
			return Result{}, err
		}
		d := pol.backoff(attempt)
		if ra, ok := RetryAfter(err); ok {
			d = ra + rand.N(ra/10+1)
		}
		if attempt >= pol.Attempts || waited+d > pol.Budget {
			return Result{}, fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		progress()
		if err := t.wait(ctx, d); err != nil {
			return Result{}, err
		}
		waited += d
		st.Retries++
	}
}

// wait sleeps d or until ctx ends.
func (t *Translator) wait(ctx context.Context, d time.Duration) error {
	if t.sleep != nil {
		return t.sleep(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// sendBeating is send with progress called every Heartbeat until it returns.
func (t *Translator) sendBeating(ctx context.Context, eng Engine, req Request, progress func()) (Result, error) {
	type answer struct {
		res Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := t.send(ctx, eng, req)
		done <- answer{res, err}
	}()
	every := t.Heartbeat
	if every <= 0 {
		every = 10 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case a := <-done:
			return a.res, a.err
		case <-tick.C:
			progress()
		}
	}
}

func (t *Translator) send(ctx context.Context, eng Engine, req Request) (Result, error) {
	if t.lim != nil {
		if err := t.lim.Wait(ctx); err != nil {
			return Result{}, err
		}
	}
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	defer func() { <-t.sem }()
	return eng.Translate(ctx, req)
}

// retryable is true for ErrRetryable and for errors an engine left
// unclassified (network trouble); false for the other classes.
func retryable(err error) bool {
	if errors.Is(err, ErrRetryable) {
		return true
	}
	return !errors.Is(err, ErrQuota) && !errors.Is(err, ErrAuth) && !errors.Is(err, ErrPermanent) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// fieldPair is one German field and where its English goes.
type fieldPair struct {
	name string // English field name, for edits and flags
	para int    // segment paragraph index
	de   string
	en   *string
}

func pairFields(a *article.Article, en *article.Text) []fieldPair {
	out := []fieldPair{
		{name: "en.title", para: article.ParaTitle, de: a.DE.Title, en: &en.Title},
		{name: "en.lead", para: article.ParaLead, de: a.DE.Lead, en: &en.Lead},
	}
	for i, p := range a.DE.Paragraphs {
		out = append(out, fieldPair{name: article.ParagraphField("en", i), para: i, de: p, en: &en.Paragraphs[i]})
	}
	return out
}

// articleGlossary is the article's entities with both forms whose German
// form occurs in the German text, without duplicates.
func articleGlossary(a *article.Article) []Term {
	var all strings.Builder
	for _, f := range a.DE.Fields("de") {
		all.WriteString(*f.Text)
		all.WriteByte('\n')
	}
	text := all.String()
	seen := make(map[string]bool)
	var out []Term
	for _, e := range a.Entities {
		de, en := strings.TrimSpace(e.DE), strings.TrimSpace(e.EN)
		if de == "" || en == "" || seen[de] || !ContainsWord(text, de) {
			continue
		}
		seen[de] = true
		out = append(out, Term{DE: de, EN: en})
	}
	return out
}

// glossaryFor keeps the terms that occur in the batch. Engines that build
// server-side glossaries may use the article's whole list instead; the
// filtered list keeps prompts and placeholders small.
func glossaryFor(g []Term, segs []string) []Term {
	if len(g) == 0 {
		return nil
	}
	var out []Term
	for _, term := range g {
		for _, s := range segs {
			if ContainsWord(s, term.DE) {
				out = append(out, term)
				break
			}
		}
	}
	return out
}

// checkEntities makes sure every entity whose German form occurs in de
// appears in its English form in en. A German form copied verbatim is
// replaced (an edit); anything else is flagged.
func checkEntities(de, en string, glossary []Term, field string, base int) (string, []article.Edit, []article.Flag) {
	var edits []article.Edit
	var flags []article.Flag
	for _, term := range glossary {
		if !ContainsWord(de, term.DE) || strings.Contains(en, term.EN) {
			continue
		}
		if i := indexWord(en, term.DE, 0); i >= 0 {
			for i >= 0 {
				edits = append(edits, article.Edit{Stage: article.StageTranslate, Rule: RuleEntityRepair, Field: field,
					Offset: base + i, Before: term.DE, After: term.EN})
				en = en[:i] + term.EN + en[i+len(term.DE):]
				i = indexWord(en, term.DE, i+len(term.EN))
			}
			continue
		}
		flags = append(flags, article.Flag{Stage: article.StageTranslate, Code: FlagEntityMismatch, Field: field, Offset: base,
			Message: fmt.Sprintf("%q (German %q) is missing from the translation of %q", term.EN, term.DE, de)})
	}
	return en, edits, flags
}

func dropStage(edits []article.Edit) []article.Edit {
	out := edits[:0:0]
	for _, e := range edits {
		if !(e.Stage == article.StageTranslate && e.Rule == RuleEntityRepair) {
			out = append(out, e)
		}
	}
	return out
}

func dropFlags(flags []article.Flag) []article.Flag {
	out := flags[:0:0]
	for _, f := range flags {
		if !(f.Stage == article.StageTranslate && (f.Code == FlagEntityMismatch || f.Code == FlagEntityUnprotected)) {
			out = append(out, f)
		}
	}
	return out
}

// memoryParallelism bounds concurrent memory requests of one article.
const memoryParallelism = 8

// lookup gets keys from the memory, several at a time; found[i] says
// whether keys[i] was there. Failed lookups count as misses.
func (t *Translator) lookup(ctx context.Context, keys []string) (hits []string, found []bool, errs int) {
	hits, found = make([]string, len(keys)), make([]bool, len(keys))
	if t.Memory == nil || len(keys) == 0 {
		return hits, found, 0
	}
	if bm, ok := t.Memory.(BatchMemory); ok {
		got, err := bm.GetMany(ctx, keys)
		if err != nil {
			return hits, found, len(keys)
		}
		for i, k := range keys {
			hits[i], found[i] = got[k]
		}
		return hits, found, 0
	}
	var mu sync.Mutex
	parallel(len(keys), func(i int) {
		v, ok, err := t.Memory.Get(ctx, keys[i])
		if err != nil {
			mu.Lock()
			errs++
			mu.Unlock()
			return
		}
		hits[i], found[i] = v, ok
	})
	return hits, found, errs
}

// store puts the translations idx selects into the memory, several at a
// time, and returns how many puts failed.
func (t *Translator) store(ctx context.Context, idx []int, entry func(i int) (key, en string)) int {
	if t.Memory == nil || len(idx) == 0 {
		return 0
	}
	if bm, ok := t.Memory.(BatchMemory); ok {
		entries := make(map[string]string, len(idx))
		for _, i := range idx {
			k, en := entry(i)
			entries[k] = en
		}
		if err := bm.PutMany(ctx, entries); err != nil {
			return len(idx)
		}
		return 0
	}
	var mu sync.Mutex
	errs := 0
	parallel(len(idx), func(j int) {
		k, en := entry(idx[j])
		if err := t.Memory.Put(ctx, k, en); err != nil {
			mu.Lock()
			errs++
			mu.Unlock()
		}
	})
	return errs
}

// parallel runs f(0..n-1) on up to memoryParallelism goroutines.
func parallel(n int, f func(i int)) {
	if n == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < min(n, memoryParallelism); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
