package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// HTTPHandler accepts articles by POST: one plain-text or JSON article, or
// JSON Lines (by Content-Type: text/plain, application/json,
// application/x-ndjson; otherwise sniffed). The source name comes from the
// ?source= parameter, else "http". It answers 200 with one ItemResult per
// item once every item is published or rejected, 413 when the body exceeds
// maxBody, and 503 when publishing fails (the client should retry; items
// already published are deduplicated).
func HTTPHandler(r *intake.Reader, emit Emitter, maxBody int64) http.Handler {
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
		var results []ItemResult
		err := r.Read(req.Context(), body, intake.Origin{Name: source, Path: "http", Format: formatOf(req.Header.Get("Content-Type"))}, func(it intake.Item) error {
			out, err := emit(req.Context(), it)
			if err != nil {
				return err
			}
			res := ItemResult{Line: it.Line}
			switch {
			case it.Reject != nil:
				res.ID, res.Outcome, res.Code, res.Reason = it.Reject.ID, "rejected", it.Reject.Reject.Code, it.Reject.Reject.Reason
			case out == Duplicate:
				res.ID, res.Rev, res.Outcome = it.Article.ID, it.Article.Rev, "duplicate"
			default:
				res.ID, res.Rev, res.Outcome = it.Article.ID, it.Article.Rev, "published"
			}
			results = append(results, res)
			return nil
		})
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			http.Error(w, fmt.Sprintf("body larger than %d bytes", maxBody), http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			http.Error(w, "publishing failed, retry: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"items": results})
	})
}

func formatOf(contentType string) intake.Format {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	switch ct {
	case "text/plain":
		return intake.Plain
	case "application/json":
		return intake.JSON
	case "application/x-ndjson", "application/jsonl", "application/x-jsonlines":
		return intake.JSONL
	}
	return intake.Auto
}

// Emit publishes an intake item with p: an article or its rejection.
func (p *Publisher) Emit(ctx context.Context, it intake.Item) (Outcome, error) {
	if it.Reject != nil {
		return p.Reject(ctx, it.Reject)
	}
	return p.Article(ctx, it.Article)
}
