package sink

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/record"
	"github.com/dewire/dewire/workers/sink/pgsink"
	"github.com/dewire/dewire/workers/stage"
)

// Options configure a sink worker.
type Options struct {
	Out string // folder for JSONL (and TMX) per day
	TMX bool   // also write TMX 1.4b beside the JSONL
	// ToolVersion goes into the TMX header.
	ToolVersion string
	// PostgresDSN, when set, also upserts every record into PostgreSQL.
	PostgresDSN string
	// Extras are further writers (tests).
	Extras []Writer
	// Concurrency overrides the environment's: more records in flight
	// means more of them share one fsync.
	Concurrency int
	// OnWritten is told about every record handled (fresh: newly stored).
	OnWritten func(a *article.Article, fresh bool)
}

// Open opens every destination Options name. close closes them all.
func Open(ctx context.Context, o Options, log *zap.Logger) (s *Sink, close func() error, err error) {
	if log == nil {
		log = zap.NewNop()
	}
	var closers []func() error
	closeAll := func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		return errors.Join(errs...)
	}
	jsonl, err := OpenJSONL(o.Out)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, jsonl.Close)
	extras := append([]Writer(nil), o.Extras...)
	if o.TMX {
		t, err := OpenTMX(o.Out, record.TMXHeader{CreationToolVersion: o.ToolVersion})
		if err != nil {
			_ = closeAll()
			return nil, nil, err
		}
		extras = append(extras, t)
		closers = append(closers, t.Close)
	}
	if o.PostgresDSN != "" {
		pg, err := pgsink.Open(ctx, o.PostgresDSN)
		if err != nil {
			_ = closeAll()
			return nil, nil, fmt.Errorf("postgres sink: %s", redactDSN(err.Error(), o.PostgresDSN))
		}
		extras = append(extras, pgWriter{pg})
		closers = append(closers, pg.Close)
		log.Info("writing records to PostgreSQL too")
	}
	return &Sink{JSONL: jsonl, Extras: extras, OnWritten: o.OnWritten}, closeAll, nil
}

// pgWriter adapts pgsink to Writer.
type pgWriter struct{ s *pgsink.Sink }

func (w pgWriter) Write(ctx context.Context, a *article.Article) error {
	_, err := w.s.Write(ctx, a)
	return err
}

// Run is the sink worker on destinations already open: the sink stage and
// its DLQ mover until ctx ends.
func (s *Sink) Run(ctx context.Context, env stage.Env, concurrency int) error {
	records := stage.Register(env.Registry, prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "dewire", Name: "sink_records_total",
		Help: "Records the sink handled: stored, already stored (a redelivery), or stored under the next free revision.",
	}, []string{"outcome"}))
	next := s.OnWritten
	s.OnWritten = func(a *article.Article, fresh bool) {
		switch {
		case !fresh:
			records.WithLabelValues("already_stored").Inc()
		case a.HasFlag(FlagRevisionReassigned):
			records.WithLabelValues("reassigned").Inc()
		default:
			records.WithLabelValues("stored").Inc()
		}
		if next != nil {
			next(a, fresh)
		}
	}
	cfg := Config(env.Base())
	if concurrency > 0 {
		cfg.Concurrency = concurrency
	}
	return stage.Group(ctx,
		func(ctx context.Context) error { return env.RunStage(ctx, cfg, s.Handler()) },
		func(ctx context.Context) error { return env.RunMover(ctx, cfg.Consumer) })
}

// Run is the sink worker: it opens the destinations, runs until ctx ends,
// and closes them.
func Run(ctx context.Context, env stage.Env, o Options) error {
	s, closeAll, err := Open(ctx, o, env.Log)
	if err != nil {
		return err
	}
	err = s.Run(ctx, env, o.Concurrency)
	return errors.Join(err, closeAll())
}

// redactDSN removes the DSN and its password from a message.
func redactDSN(msg, dsn string) string {
	msg = strings.ReplaceAll(msg, dsn, "[dsn]")
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "[redacted]")
		}
	}
	return msg
}
