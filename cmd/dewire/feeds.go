package main

import (
	"context"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/workers/ingest"
)

// feedFlags name RSS/Atom feeds to poll.
type feedFlags struct {
	urls     []string
	interval time.Duration
}

func (f *feedFlags) register(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.urls, "feed", nil, "RSS or Atom feed URL to poll (repeatable, or comma-separated)")
	fs.DurationVar(&f.interval, "feed-interval", 5*time.Minute, "how often feeds are polled (run polls once unless --watch)")
}

// poller returns the feed poller, or nil when no feed is named.
func (f *feedFlags) poller(r *intake.Reader, source string, emit func(context.Context, intake.Item) error, log *zap.Logger) *ingest.Feeds {
	if len(f.urls) == 0 {
		return nil
	}
	return &ingest.Feeds{
		URLs: f.urls, Interval: f.interval, Source: source, Reader: r, Emit: emit,
		OnError: func(url string, err error) { log.Warn("feed unavailable", zap.String("feed", url), zap.Error(err)) },
	}
}
