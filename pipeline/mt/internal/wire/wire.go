// Package wire sends JSON requests to translation services and turns their
// failures into mt errors; the engine packages share it.
package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dewire/dewire/pipeline/mt"
)

// MaxResponse bounds the bytes read from a service's answer.
const MaxResponse = 32 << 20

// Response is a service's raw answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends body (JSON-encoded unless nil) and reads the whole answer.
// Transport failures come back as retryable *mt.Error, with secrets
// redacted; a done context comes back as the context's error.
func Do(ctx context.Context, c *http.Client, engine, method, url string, header http.Header, body any, secrets ...string) (Response, error) {
	if c == nil {
		c = http.DefaultClient
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Response{}, &mt.Error{Engine: engine, Class: mt.ErrPermanent, Message: "encode request: " + err.Error()}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return Response{}, &mt.Error{Engine: engine, Class: mt.ErrPermanent, Message: mt.Redact(err.Error(), secrets...)}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Response{}, fmt.Errorf("%s: %w", engine, ctx.Err())
		}
		return Response{}, &mt.Error{Engine: engine, Class: mt.ErrRetryable, Message: mt.Redact(err.Error(), secrets...)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse))
	if err != nil {
		if ctx.Err() != nil {
			return Response{}, fmt.Errorf("%s: %w", engine, ctx.Err())
		}
		return Response{}, &mt.Error{Engine: engine, Class: mt.ErrRetryable, Status: resp.StatusCode, Message: mt.Redact("read answer: "+err.Error(), secrets...)}
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// Fail builds the error for a non-2xx answer with the class given, taking
// the wait from Retry-After.
func Fail(engine string, r Response, class error, message string, secrets ...string) *mt.Error {
	if message == "" {
		message = http.StatusText(r.Status)
	}
	if len(message) > 500 {
		message = message[:500] + "…"
	}
	return &mt.Error{Engine: engine, Class: class, Status: r.Status,
		RetryAfter: mt.ParseRetryAfter(r.Header.Get("Retry-After"), time.Now()),
		Message:    mt.Redact(message, secrets...)}
}

// Decode unmarshals a 2xx answer; a malformed answer is retryable (a
// proxy or an overloaded server may have cut it short).
func Decode(engine string, r Response, v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return &mt.Error{Engine: engine, Class: mt.ErrRetryable, Status: r.Status, Message: "malformed answer: " + err.Error()}
	}
	return nil
}

// IsContext reports whether err is the context's own error.
func IsContext(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
