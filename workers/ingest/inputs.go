package ingest

import "go.uber.org/zap"

// skipped logs and counts an input left alone on purpose. Hidden names are
// expected (editors, rename-into-place, ConfigMap internals) and logged at
// debug level only.
func (g *Ingester) skipped(path, reason string) {
	g.met.skipped.WithLabelValues(reason).Inc()
	log := g.log.Info
	if reason == SkipHidden {
		log = g.log.Debug
	}
	log("input skipped", zap.String("path", path), zap.String("reason", reason))
}

// feedFailed logs and counts a feed that could not be polled.
func (g *Ingester) feedFailed(url string, err error) {
	g.met.feedErrors.Inc()
	g.log.Warn("feed unavailable", zap.String("feed", url), zap.Error(err))
}
