package stage

import "github.com/prometheus/client_golang/prometheus"

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
	if reg != nil {
		reg.MustRegister(m.Messages, m.Duration, m.InFlight, m.Paused, m.Published)
	}
	return m
}
