package translate

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/workers/stage"
)

// metrics are what a translate worker reports about its engine and memory.
type metrics struct {
	requests *prometheus.CounterVec   // by engine and outcome (ok, retryable, quota, auth, permanent, canceled, other)
	chars    *prometheus.CounterVec   // by engine and kind (sent, billed)
	latency  *prometheus.HistogramVec // by engine
	segments *prometheus.CounterVec   // by source (memory, engine)
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		requests: stage.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dewire", Name: "engine_requests_total",
			Help: "Requests to the translation engine, by outcome (ok or the error class).",
		}, []string{"engine", "outcome"})),
		chars: stage.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dewire", Name: "engine_characters_total",
			Help: "Characters sent to the engine (retries included) and characters it billed.",
		}, []string{"engine", "kind"})),
		latency: stage.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "dewire", Name: "engine_request_seconds",
			Help:    "Time one engine request took.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"engine"})),
		segments: stage.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dewire", Name: "translate_segments_total",
			Help: "Sentences translated, by where the English came from: the translation memory or the engine.",
		}, []string{"source"})),
	}
}

// instrumented counts every request an engine serves.
type instrumented struct {
	mt.Engine
	m *metrics
}

func (e instrumented) Translate(ctx context.Context, req mt.Request) (mt.Result, error) {
	start := time.Now()
	res, err := e.Engine.Translate(ctx, req)
	name := e.Name()
	e.m.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
	e.m.requests.WithLabelValues(name, outcome(err)).Inc()
	sent := 0
	for _, s := range req.Segments {
		sent += utf8.RuneCountInString(s)
	}
	e.m.chars.WithLabelValues(name, "sent").Add(float64(sent))
	if err == nil {
		e.m.chars.WithLabelValues(name, "billed").Add(float64(res.BilledChars))
	}
	return res, err
}

func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, mt.ErrQuota):
		return "quota"
	case errors.Is(err, mt.ErrAuth):
		return "auth"
	case errors.Is(err, mt.ErrPermanent):
		return "permanent"
	case errors.Is(err, mt.ErrRetryable):
		return "retryable"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	return "other"
}

// counting counts where each article's sentences came from.
type counting struct {
	Translator
	m *metrics
}

func (c counting) Translate(ctx context.Context, a *article.Article) error {
	before := article.Engine{}
	if a.Engine != nil {
		before = *a.Engine
	}
	err := c.Translator.Translate(ctx, a)
	if err == nil && a.Engine != nil {
		c.m.segments.WithLabelValues("memory").Add(float64(max(a.Engine.FromMemory-before.FromMemory, 0)))
		c.m.segments.WithLabelValues("engine").Add(float64(max(a.Engine.Translated-before.Translated, 0)))
	}
	return err
}
