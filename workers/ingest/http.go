package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"strings"

	"github.com/dewire/dewire/pipeline/intake"
)

// ItemResult is the answer for one item posted to the HTTP endpoint.
type ItemResult struct {
	Line    int    `json:"line,omitempty"` // JSONL line, 0 for a single article
	ID      string `json:"id"`
	Rev     int    `json:"rev,omitempty"`
	Outcome string `json:"outcome"` // published, duplicate, rejected
	Code    string `json:"code,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// Emitter publishes one intake item and says what became of it.
type Emitter func(ctx context.Context, it intake.Item) (Outcome, error)

// HTTPHandler accepts articles by POST: one plain-text, HTML or JSON
// article, JSON Lines, or a multipart/form-data upload whose file parts are
// each read as one input (by the part's Content-Type, else its file name).
// A body without a Content-Type (or application/octet-stream) is sniffed;
// any other type is refused with 415. The source name comes from the
// ?source= parameter, else "http". It answers 200 with one ItemResult per
// item once every item is published or rejected, 413 when the body exceeds
// maxBody, 408 when the client stops sending it before the read deadline,
// and 503 when publishing fails (the client should retry; items already
// published are deduplicated).
func HTTPHandler(r *intake.Reader, emit Emitter, maxBody int64) http.Handler {
	return httpHandler(r, func(ctx context.Context, it intake.Item) <-chan result {
		ch := make(chan result, 1)
		out, err := emit(ctx, it)
		ch <- result{out, err}
		return ch
	}, maxBody)
}

// httpHandler is HTTPHandler on an emitter that starts each publish and
// delivers its outcome later, so the items of one body are published in
// parallel; the results keep the body's order, and the first failure stops
// the reading.
func httpHandler(r *intake.Reader, start func(context.Context, intake.Item) <-chan result, maxBody int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST articles here", http.StatusMethodNotAllowed)
			return
		}
		source := req.URL.Query().Get("source")
		if source == "" {
			source = "http"
		}
		body := http.MaxBytesReader(w, req.Body, maxBody)
		ctx, cancel := context.WithCancel(req.Context())
		defer cancel()
		var (
			results []ItemResult
			items   []intake.Item
			waits   []<-chan result
			failed  error
		)
		// take records the outcome of the next item in order; block says
		// whether to wait for it.
		take := func(block bool) bool {
			if len(results) == len(waits) {
				return false
			}
			var r result
			if block {
				r = <-waits[len(results)]
			} else {
				select {
				case r = <-waits[len(results)]:
				default:
					return false
				}
			}
			if r.err != nil && failed == nil {
				failed = r.err
				cancel() // the items after it need not be published
			}
			results = append(results, resultOf(items[len(results)], r.out))
			return true
		}
		collect := func(it intake.Item) error {
			for take(false) {
			}
			if failed != nil {
				return failed
			}
			items = append(items, it)
			waits = append(waits, start(ctx, it))
			return nil
		}
		finish := func(err error) error {
			for take(true) {
			}
			if failed != nil {
				return failed
			}
			return err
		}
		origin := intake.Origin{Name: source, Path: "http"}
		var err error
		mediaType, params, perr := mime.ParseMediaType(req.Header.Get("Content-Type"))
		switch {
		case req.Header.Get("Content-Type") == "":
			err = finish(r.Read(ctx, body, origin, collect))
		case perr != nil:
			http.Error(w, "Content-Type: "+perr.Error(), http.StatusUnsupportedMediaType)
			return
		case mediaType == "multipart/form-data":
			err = finish(readMultipart(ctx, r, multipart.NewReader(body, params["boundary"]), origin, collect))
		default:
			f, ok := formatOf(mediaType)
			if !ok {
				http.Error(w, unsupported(mediaType), http.StatusUnsupportedMediaType)
				return
			}
			origin.Format = f
			err = finish(r.Read(ctx, body, origin, collect))
		}
		var tooBig *http.MaxBytesError
		var ne net.Error
		var bad *unsupportedPart
		switch {
		case errors.As(err, &tooBig):
			http.Error(w, fmt.Sprintf("body larger than %d bytes", maxBody), http.StatusRequestEntityTooLarge)
			return
		case errors.As(err, &bad):
			http.Error(w, bad.Error(), http.StatusUnsupportedMediaType)
			return
		case errors.As(err, &ne) && ne.Timeout():
			http.Error(w, "the body did not arrive before the read deadline", http.StatusRequestTimeout)
			return
		case errors.Is(err, errBadMultipart):
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		case err != nil:
			http.Error(w, "publishing failed, retry: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"items": results})
	})
}

func resultOf(it intake.Item, out Outcome) ItemResult {
	res := ItemResult{Line: it.Line}
	switch {
	case it.Reject != nil:
		res.ID, res.Outcome, res.Code, res.Reason = it.Reject.ID, "rejected", it.Reject.Reject.Code, it.Reject.Reject.Reason
	case out == Duplicate:
		res.ID, res.Rev, res.Outcome = it.Article.ID, it.Article.Rev, "duplicate"
	default:
		res.ID, res.Rev, res.Outcome = it.Article.ID, it.Article.Rev, "published"
	}
	return res
}

var errBadMultipart = errors.New("malformed multipart body")

// unsupportedPart is a multipart part of a type no reader takes.
type unsupportedPart struct{ name, mediaType string }

func (u *unsupportedPart) Error() string {
	return fmt.Sprintf("part %q: %s", u.name, unsupported(u.mediaType))
}

func unsupported(mediaType string) string {
	return fmt.Sprintf("Content-Type %s is not accepted: send text/plain, text/html, application/json, application/x-ndjson or multipart/form-data", mediaType)
}

// readMultipart reads every part that carries a file (or any non-empty
// field) as one input.
func readMultipart(ctx context.Context, r *intake.Reader, mr *multipart.Reader, origin intake.Origin, emit func(intake.Item) error) error {
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			var ne net.Error
			if errors.As(err, &tooBig) || errors.As(err, &ne) {
				return err
			}
			return fmt.Errorf("%w: %w", errBadMultipart, err)
		}
		o := origin
		name := part.FileName()
		if name == "" {
			name = part.FormName()
		}
		if ct := part.Header.Get("Content-Type"); ct != "" {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil {
				part.Close()
				return &unsupportedPart{name: name, mediaType: ct}
			}
			if f, ok := formatOf(mt); ok {
				o.Format = f
			} else {
				part.Close()
				return &unsupportedPart{name: name, mediaType: mt}
			}
		}
		if o.Format == intake.Auto && part.FileName() != "" {
			o.Format = intake.FormatOf(part.FileName())
		}
		err = r.Read(ctx, part, o, emit)
		part.Close()
		if err != nil {
			return err
		}
	}
}

// formatOf maps a media type to the intake format; ok is false for types
// no reader takes.
func formatOf(mediaType string) (f intake.Format, ok bool) {
	switch strings.ToLower(mediaType) {
	case "text/plain":
		return intake.Plain, true
	case "text/html", "application/xhtml+xml":
		return intake.HTML, true
	case "application/json":
		return intake.JSON, true
	case "application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines":
		return intake.JSONL, true
	case "application/octet-stream":
		return intake.Auto, true
	}
	return intake.Auto, false
}

// Emit publishes an intake item with p: an article or its rejection.
func (p *Publisher) Emit(ctx context.Context, it intake.Item) (Outcome, error) {
	if it.Reject != nil {
		return p.Reject(ctx, it.Reject)
	}
	return p.Article(ctx, it.Article)
}
