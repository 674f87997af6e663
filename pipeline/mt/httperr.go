package mt

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter reads an HTTP Retry-After value: seconds or an HTTP date.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// ClassForStatus maps an HTTP status to an error class the way most
// engines mean it: 401/403 credentials, 429/5xx/408 retry, other 4xx permanent.
func ClassForStatus(status int) error {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ErrAuth
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		return ErrRetryable
	default:
		return ErrPermanent
	}
}

// Redact replaces every occurrence of the secrets in s; engines run error
// messages through it so keys never reach logs.
func Redact(s string, secrets ...string) string {
	for _, k := range secrets {
		if k != "" {
			s = strings.ReplaceAll(s, k, "[redacted]")
		}
	}
	return s
}

// Checker is implemented by engines that can verify their settings and
// credentials before the first article (bad credentials fail fast).
type Checker interface {
	Check(ctx context.Context) error
}
