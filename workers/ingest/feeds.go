package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/dewire/dewire/pipeline/intake"
)

// Feeds polls RSS and Atom feeds and hands their items to Emit through the
// same intake reader as files, so limits, the language gate and rejections
// apply alike. Unchanged feeds cost one conditional request; items already
// published come back from the revision store as duplicates.
type Feeds struct {
	URLs     []string
	Interval time.Duration // between polls; default 5 minutes
	Source   string        // source name; default the feed's host
	Reader   *intake.Reader
	Client   *http.Client // default: 30 s timeout
	MaxBytes int64        // largest feed document; default 16 MiB
	Emit     func(ctx context.Context, it intake.Item) error
	// OnError is told about each feed that could not be fetched or parsed;
	// polling goes on.
	OnError func(url string, err error)

	cache map[string]validators
}

type validators struct{ etag, modified string }

// ErrFeed marks a feed that could not be fetched (unreachable, an HTTP
// error status such as 404) or is not a feed; errors.As finds a *FeedError.
var ErrFeed = errors.New("feed unavailable")

// FeedError is one feed's failure.
type FeedError struct {
	URL    string
	Status int // the HTTP status, 0 when none came back
	Err    error
}

func (e *FeedError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("feed %s: HTTP %d", e.URL, e.Status)
	}
	return fmt.Sprintf("feed %s: %v", e.URL, e.Err)
}

// Unwrap makes errors.Is(err, ErrFeed) true, and reaches the cause.
func (e *FeedError) Unwrap() []error { return []error{ErrFeed, e.Err} }

// Run polls every feed now and then every Interval until ctx ends. A feed
// that fails is reported to OnError and tried again next time; only a
// failed Emit ends the run.
func (f *Feeds) Run(ctx context.Context) error {
	interval := f.Interval
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	for {
		if err := f.Poll(ctx); err != nil && !onlyFeedErrors(err) {
			return err
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Poll fetches every feed once. It returns an Emit error (publishing
// failed) at once; the feeds that failed are reported to OnError, the
// others read, and then their *FeedErrors returned together.
func (f *Feeds) Poll(ctx context.Context) error {
	var failed []error
	for _, u := range f.URLs {
		items, err := f.fetch(ctx, u)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			fe := &FeedError{URL: u, Err: err}
			errors.As(err, &fe)
			if f.OnError != nil {
				f.OnError(u, fe)
			}
			failed = append(failed, fe)
			continue
		}
		if len(items) == 0 {
			continue
		}
		source := f.Source
		if source == "" {
			source = hostOf(u)
		}
		err = f.Reader.Read(ctx, bytes.NewReader(intake.FeedJSONL(items)), intake.Origin{Name: source, Path: u, Format: intake.JSONL},
			func(it intake.Item) error { return f.Emit(ctx, it) })
		if err != nil {
			return fmt.Errorf("feed %s: %w", u, err)
		}
	}
	return errors.Join(failed...)
}

// onlyFeedErrors says whether err holds feed failures and nothing else.
func onlyFeedErrors(err error) bool {
	if _, ok := err.(*FeedError); ok {
		return true
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlyFeedErrors(e) {
				return false
			}
		}
		return len(j.Unwrap()) > 0
	}
	return false
}

func (f *Feeds) fetch(ctx context.Context, u string) ([]intake.FeedItem, error) {
	if f.cache == nil {
		f.cache = map[string]validators{}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5")
	if v, ok := f.cache[u]; ok {
		if v.etag != "" {
			req.Header.Set("If-None-Match", v.etag)
		}
		if v.modified != "" {
			req.Header.Set("If-Modified-Since", v.modified)
		}
	}
	client := f.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return nil, nil
	case resp.StatusCode != http.StatusOK:
		return nil, &FeedError{URL: u, Status: resp.StatusCode, Err: fmt.Errorf("HTTP %d", resp.StatusCode)}
	}
	limit := f.MaxBytes
	if limit <= 0 {
		limit = 16 << 20
	}
	items, err := intake.ParseFeed(resp.Body, "", limit)
	if err != nil {
		return nil, err
	}
	f.cache[u] = validators{etag: resp.Header.Get("ETag"), modified: resp.Header.Get("Last-Modified")}
	return items, nil
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Hostname() == "" {
		return "feed"
	}
	return p.Hostname()
}
