package stage

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus series every stage reports. One Metrics serves
// all stages of a process; series are labelled by stage.
type Metrics struct {
	Messages  *prometheus.CounterVec   // by stage and outcome
	Duration  *prometheus.HistogramVec // handler time by stage
	InFlight  *prometheus.GaugeVec
	Paused    *prometheus.GaugeVec
	Published *prometheus.CounterVec // downstream publishes by stage and whether the server saw a duplicate
}

// Outcomes counted in Messages.
const (
	OutcomeOK        = "ok"
	OutcomeRetry     = "retry"
	OutcomeDLQ       = "dead_lettered"
	OutcomeAbandoned = "abandoned" // shutdown before the handler finished; redelivered later
	OutcomeTimedOut  = "timed_out" // the handler ran past its deadline; retried
)

// NewMetrics registers the stage metrics with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dewire", Name: "stage_messages_total",
			Help: "Messages handled by a stage, by outcome.",
		}, []string{"stage", "outcome"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "dewire", Name: "stage_handle_seconds",
			Help:    "Time from receiving a message to acking it.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 18),
		}, []string{"stage"}),
		InFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "dewire", Name: "stage_in_flight",
			Help: "Messages a stage is working on.",
		}, []string{"stage"}),
		Paused: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "dewire", Name: "stage_paused",
			Help: "1 while a stage has stopped pulling because its backend asked it to pause (e.g. translation quota exhausted).",
		}, []string{"stage"}),
		Published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "dewire", Name: "stage_published_total",
			Help: "Downstream publishes, by whether the server recognised a duplicate.",
		}, []string{"stage", "duplicate"}),
	}
	// Several workers of one process share the series.
	m.Messages, m.Duration, m.InFlight = Register(reg, m.Messages), Register(reg, m.Duration), Register(reg, m.InFlight)
	m.Paused, m.Published = Register(reg, m.Paused), Register(reg, m.Published)
	return m
}

// Register registers c with reg, or returns the collector already
// registered under its name, so two workers of one process (dewire run, or
// a second entry point in a test) share the series. A nil reg registers nothing.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
