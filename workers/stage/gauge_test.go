package stage_test

import (
	dto "github.com/prometheus/client_model/go"

	"github.com/dewire/dewire/workers/stage"
)

func gauge(m *stage.Metrics, name string) float64 {
	var out dto.Metric
	if err := m.Paused.WithLabelValues(name).Write(&out); err != nil {
		return -1
	}
	return out.GetGauge().GetValue()
}
