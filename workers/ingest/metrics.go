package ingest

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dewire/dewire/workers/stage"
)

// metrics are what an ingest worker reports beside the stage metrics.
type metrics struct {
	items         *prometheus.CounterVec // by outcome
	rejected      *prometheus.CounterVec // by code
	publishErrors prometheus.Counter
	unreadable    prometheus.Counter
	skipped       *prometheus.CounterVec // by reason
	feedErrors    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dewire", Name: "ingest_items_total",
			Help: "Items ingested, by outcome: published, republished, duplicate, rejected.",
		}, []string{"outcome"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dewire", Name: "ingest_rejected_total",
			Help: "Inputs rejected at ingest, by rejection code.",
		}, []string{"code"}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "dewire", Name: "ingest_publish_errors_total",
			Help: "Failed publish attempts (each is retried; a rising count means NATS is unreachable).",
		}),
		unreadable: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "dewire", Name: "ingest_unreadable_total",
			Help: "Inputs that could not be read at all.",
		}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dewire", Name: "ingest_skipped_total",
			Help: "Inputs left alone on purpose, by reason: hidden, not_regular_file, symlink_loop, same_file.",
		}, []string{"reason"}),
		feedErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "dewire", Name: "ingest_feed_errors_total",
			Help: "Feed polls that failed: unreachable, an HTTP error status, or not a feed.",
		}),
	}
	// stage.Register shares series between workers of one process and
	// registers nothing for a nil reg.
	m.items = stage.Register(reg, m.items)
	m.rejected = stage.Register(reg, m.rejected)
	m.publishErrors = stage.Register(reg, m.publishErrors)
	m.unreadable = stage.Register(reg, m.unreadable)
	m.skipped = stage.Register(reg, m.skipped)
	m.feedErrors = stage.Register(reg, m.feedErrors)
	return m
}
