package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/workers/bus"
)

// Channels an article enters by.
const (
	viaHTTP   = "http"
	viaFolder = "folder"
)

// key is one distinct content of one article: what the sink must hold once.
type key struct{ ID, Hash string }

// expectation is what the load knows about one key.
type expectation struct {
	GUID      string
	Channel   string
	Version   int  // 1 for the first content of a guid, 2 for its first revision, …
	Confirmed bool // ingest confirmed it (HTTP result, or the revisions KV for the folder)
}

// ledger records what was ingested, shared by every load task.
type ledger struct {
	mu        sync.Mutex
	expected  map[key]*expectation
	rejected  map[key]string // rejected at ingest (HTTP result), with the reason
	ambiguous map[key]bool   // a post that never got an answer: may or may not be in
	anomalies []string

	posts, postAttempts, postedItems int
	fileWrites, fileItems            int
}

func newLedger() *ledger {
	return &ledger{expected: map[key]*expectation{}, rejected: map[key]string{}, ambiguous: map[key]bool{}}
}

func (l *ledger) expect(k key, e expectation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur, ok := l.expected[k]; ok {
		cur.Confirmed = cur.Confirmed || e.Confirmed
		return
	}
	l.expected[k] = &e
}

func (l *ledger) anomaly(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.anomalies) < 50 {
		l.anomalies = append(l.anomalies, fmt.Sprintf(format, args...))
	}
}

// identify returns the id and content hash the ingest gives d, by reading it
// with the intake reader every ingest uses.
func identify(d doc) (key, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return key{}, fmt.Errorf("encode %s: %w", d.GUID, err)
	}
	var k key
	err = (&intake.Reader{}).Read(context.Background(), bytes.NewReader(b), intake.Origin{Name: "chaos", Path: "chaos.json", Format: intake.JSON}, func(it intake.Item) error {
		if it.Article == nil {
			return fmt.Errorf("article %s rejected: %s", d.GUID, it.Reject.Reject.Reason)
		}
		k = key{it.Article.ID, it.Article.Hash}
		return nil
	})
	return k, err
}

// step is one post (HTTP) or one file write (folder).
type step struct {
	docs    []doc
	version []int // version of each doc
}

// task is a sequence of steps for one channel, run in order from start.
type task struct {
	channel string
	file    string // folder: the file every step rewrites
	start   time.Duration
	steps   []step
}

// plan builds the load: at least n submitted items, mixing new articles,
// revisions (same guid, changed text, later) and exact duplicates (same
// guid and text again), through HTTP and the folder, starting within span.
func plan(seed int64, n int, span time.Duration) []task {
	r := rand.New(rand.NewSource(seed))
	base := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	var tasks []task
	items, serial := 0, 0
	next := func() (string, int) {
		serial++
		return fmt.Sprintf("chaos-%d-%05d", seed, serial), serial
	}
	published := func() time.Time { return base.Add(time.Duration(r.Intn(30*24)) * time.Hour) }
	for items < n {
		t := task{channel: viaHTTP, start: time.Duration(r.Int63n(int64(span)))}
		if r.Float64() < 0.4 {
			t.channel = viaFolder
		}
		if r.Float64() < 0.4 {
			// A batch of new articles: one JSONL post or file.
			var s step
			for range 2 + r.Intn(4) {
				guid, num := next()
				s.docs = append(s.docs, newDoc(r, guid, num, published()))
				s.version = append(s.version, 1)
			}
			if t.channel == viaHTTP && r.Float64() < 0.3 {
				// An exact duplicate within the same post.
				i := r.Intn(len(s.docs))
				s.docs, s.version = append(s.docs, s.docs[i]), append(s.version, 1)
			}
			t.steps = append(t.steps, s)
			if t.channel == viaFolder {
				t.file = fmt.Sprintf("batch-%05d.jsonl", serial)
				if r.Float64() < 0.3 {
					t.steps = append(t.steps, s) // the same file written again
				}
			}
		} else {
			guid, num := next()
			d := newDoc(r, guid, num, published())
			if t.channel == viaFolder {
				t.file = guid + ".json"
			}
			revisions := 0
			switch x := r.Float64(); {
			case x < 0.3:
				revisions = 2
			case x < 0.7:
				revisions = 1
			}
			for v := 1; v <= revisions+1; v++ {
				if v > 1 {
					d = revise(r, d, v)
				}
				t.steps = append(t.steps, step{docs: []doc{d}, version: []int{v}})
				if r.Float64() < 0.25 {
					t.steps = append(t.steps, step{docs: []doc{d}, version: []int{v}})
				}
			}
		}
		for _, s := range t.steps {
			items += len(s.docs)
		}
		tasks = append(tasks, t)
	}
	return tasks
}

// loader runs the planned tasks against the ingest workers.
type loader struct {
	httpURL    string // POST /articles endpoint
	token      string // bearer token the endpoint requires
	dir        string // the watched folder
	js         jetstream.JetStream
	led        *ledger
	postSem    chan struct{}
	postFor    time.Duration // give up on a post after this long
	folderWait time.Duration // longest wait for the watcher to take a file before the next write
	client     *http.Client
	seed       int64
}

// run runs every task from its start offset and returns when all are done.
func (l *loader) run(ctx context.Context, tasks []task) {
	var wg sync.WaitGroup
	began := time.Now()
	for i, t := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !sleepCtx(ctx, time.Until(began.Add(t.start))) {
				return
			}
			r := rand.New(rand.NewSource(l.seed + int64(i)*7919))
			if t.channel == viaHTTP {
				l.postTask(ctx, r, t)
			} else {
				l.folderTask(ctx, r, t)
			}
		}()
	}
	wg.Wait()
}

// ingestResult is the HTTP answer: ingest.ItemResult, read as a client would.
type ingestResult struct {
	Line    int    `json:"line"`
	ID      string `json:"id"`
	Rev     int    `json:"rev"`
	Outcome string `json:"outcome"`
	Code    string `json:"code"`
	Reason  string `json:"reason"`
}

// identifyAll is the id and content hash of each document; a document the
// intake cannot identify is an anomaly of the run.
func (l *loader) identifyAll(docs []doc) ([]key, bool) {
	keys := make([]key, len(docs))
	for j, d := range docs {
		k, err := identify(d)
		if err != nil {
			l.led.anomaly("load: %v", err)
			return nil, false
		}
		keys[j] = k
	}
	return keys, true
}

func (l *loader) postTask(ctx context.Context, r *rand.Rand, t task) {
	for i, s := range t.steps {
		if i > 0 && !sleepCtx(ctx, time.Duration(500+r.Intn(3500))*time.Millisecond) {
			return
		}
		keys, ok := l.identifyAll(s.docs)
		if !ok {
			return
		}
		results, err := l.post(ctx, s.docs)
		if err != nil {
			l.led.mu.Lock()
			for _, k := range keys {
				l.led.ambiguous[k] = true
			}
			l.led.mu.Unlock()
			l.led.anomaly("post %s: %v (its later revisions were not sent)", s.docs[0].GUID, err)
			return
		}
		for j, k := range keys {
			res, ok := resultFor(results, len(s.docs), j)
			if !ok {
				l.led.anomaly("post %s: no result for item %d of %d", s.docs[j].GUID, j+1, len(s.docs))
				l.led.mu.Lock()
				l.led.ambiguous[k] = true
				l.led.mu.Unlock()
				continue
			}
			if res.ID != k.ID {
				l.led.anomaly("post %s: ingest says id %s, intake gives %s", s.docs[j].GUID, res.ID, k.ID)
			}
			switch res.Outcome {
			case "published", "duplicate":
				l.led.expect(k, expectation{GUID: s.docs[j].GUID, Channel: viaHTTP, Version: s.version[j], Confirmed: true})
			case "rejected":
				l.led.mu.Lock()
				l.led.rejected[k] = res.Code + ": " + res.Reason
				l.led.mu.Unlock()
			default:
				l.led.anomaly("post %s: outcome %q", s.docs[j].GUID, res.Outcome)
			}
		}
	}
}

func resultFor(results []ingestResult, n, j int) (ingestResult, bool) {
	if n == 1 && len(results) == 1 && results[0].Line <= 1 {
		return results[0], true
	}
	for _, res := range results {
		if res.Line == j+1 {
			return res, true
		}
	}
	return ingestResult{}, false
}

// errPostRejected marks an answer that retrying cannot change.
var errPostRejected = errors.New("post refused")

// post sends docs (one JSON article, or JSON Lines for several) and retries
// on connection errors and 503 until it gets per-item results or postFor
// runs out.
func (l *loader) post(ctx context.Context, docs []doc) ([]ingestResult, error) {
	var body bytes.Buffer
	contentType := "application/json"
	if len(docs) > 1 {
		contentType = "application/x-ndjson"
	}
	for _, d := range docs {
		b, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", d.GUID, err)
		}
		body.Write(b)
		body.WriteByte('\n')
	}
	select {
	case l.postSem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-l.postSem }()
	deadline := time.Now().Add(l.postFor)
	var last error
	for attempt := 0; time.Now().Before(deadline); attempt++ {
		if attempt > 0 && !sleepCtx(ctx, time.Duration(min(attempt, 8))*250*time.Millisecond) {
			return nil, ctx.Err()
		}
		l.led.mu.Lock()
		l.led.postAttempts++
		l.led.mu.Unlock()
		res, err := l.postOnce(ctx, body.Bytes(), contentType)
		if err == nil {
			l.led.mu.Lock()
			l.led.posts++
			l.led.postedItems += len(docs)
			l.led.mu.Unlock()
			return res, nil
		}
		if errors.Is(err, errPostRejected) || ctx.Err() != nil {
			return nil, err
		}
		last = err
	}
	return nil, fmt.Errorf("no answer within %s: %w", l.postFor, last)
}

func (l *loader) postOnce(ctx context.Context, body []byte, contentType string) ([]ingestResult, error) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, l.httpURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errPostRejected, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+l.token)
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode >= 500:
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	default:
		return nil, fmt.Errorf("%w: status %d: %s", errPostRejected, resp.StatusCode, bytes.TrimSpace(b))
	}
	var out struct {
		Items []ingestResult `json:"items"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	return out.Items, nil
}

func (l *loader) folderTask(ctx context.Context, r *rand.Rand, t task) {
	for i, s := range t.steps {
		if i > 0 && !sleepCtx(ctx, time.Duration(500+r.Intn(2500))*time.Millisecond) {
			return
		}
		keys, ok := l.identifyAll(s.docs)
		if !ok {
			return
		}
		if err := writeAtomic(l.dir, t.file, s.docs); err != nil {
			l.led.anomaly("folder: %v", err)
			return
		}
		l.led.mu.Lock()
		l.led.fileWrites++
		l.led.fileItems += len(s.docs)
		l.led.mu.Unlock()
		for j, k := range keys {
			l.led.expect(k, expectation{GUID: s.docs[j].GUID, Channel: viaFolder, Version: s.version[j]})
		}
		// The next write replaces this content: give the watcher time to take it.
		if l.awaitRevisions(ctx, keys) {
			for j, k := range keys {
				l.led.expect(k, expectation{GUID: s.docs[j].GUID, Channel: viaFolder, Version: s.version[j], Confirmed: true})
			}
		}
	}
}

// awaitRevisions waits until the revisions KV records every key as the
// published latest content of its id, or folderWait passes.
func (l *loader) awaitRevisions(ctx context.Context, keys []key) bool {
	kv, err := l.kv(ctx)
	deadline := time.Now().Add(l.folderWait)
	left := append([]key(nil), keys...)
	for time.Now().Before(deadline) {
		if kv == nil {
			kv, err = l.kv(ctx)
		}
		if err == nil && kv != nil {
			var still []key
			for _, k := range left {
				if !published(ctx, kv, k) {
					still = append(still, k)
				}
			}
			left = still
			if len(left) == 0 {
				return true
			}
		}
		if !sleepCtx(ctx, 500*time.Millisecond) {
			return false
		}
	}
	return false
}

func (l *loader) kv(ctx context.Context) (jetstream.KeyValue, error) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	kv, err := l.js.KeyValue(cctx, bus.BucketRevisions)
	if err != nil {
		return nil, fmt.Errorf("revisions bucket: %w", err)
	}
	return kv, nil
}

func published(ctx context.Context, kv jetstream.KeyValue, k key) bool {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	e, err := kv.Get(cctx, k.ID)
	if err != nil {
		return false
	}
	var rev article.Revision
	if json.Unmarshal(e.Value(), &rev) != nil {
		return false
	}
	return rev.Hash == k.Hash && rev.Published
}

// writeAtomic writes docs (JSON for one, JSON Lines for several, by the
// file's extension) under a hidden temporary name, then renames it.
func writeAtomic(dir, name string, docs []doc) error {
	var b bytes.Buffer
	for _, d := range docs {
		line, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("encode %s: %w", d.GUID, err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}
