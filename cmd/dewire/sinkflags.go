package main

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/sink"
	"github.com/dewire/dewire/workers/sink/pgsink"
)

// sinkFlags choose the sink's extra destinations beside JSONL.
type sinkFlags struct {
	tmx     bool
	dsnFile string
}

func (s *sinkFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&s.tmx, "tmx", true, "also write TMX 1.4b per day beside the JSONL")
	fs.StringVar(&s.dsnFile, "postgres-dsn-file", "", "file holding a PostgreSQL DSN; records are upserted on (id, rev) ($DEWIRE_POSTGRES_DSN also works)")
}

// pgWriter adapts pgsink to sink.Writer.
type pgWriter struct{ s *pgsink.Sink }

func (w pgWriter) Write(ctx context.Context, a *article.Article) error {
	_, err := w.s.Write(ctx, a)
	return err
}

// writers opens the configured extra destinations.
func (s *sinkFlags) writers(ctx context.Context, out string, log *zap.Logger) ([]sink.Writer, func(), error) {
	var ws []sink.Writer
	var closers []func() error
	closeAll := func() {
		for _, c := range closers {
			if err := c(); err != nil {
				log.Warn("closing sink", zap.Error(err))
			}
		}
	}
	if s.tmx {
		w, err := openTMX(out)
		if err != nil {
			return nil, closeAll, err
		}
		ws = append(ws, w)
		closers = append(closers, w.Close)
	}
	dsn, err := secret("DEWIRE_POSTGRES_DSN", s.dsnFile)
	if err != nil {
		return nil, closeAll, err
	}
	if dsn != "" {
		pg, err := pgsink.Open(ctx, dsn)
		if err != nil {
			closeAll()
			return nil, func() {}, errors.New("postgres sink: " + redactDSN(err.Error(), dsn))
		}
		ws = append(ws, pgWriter{pg})
		closers = append(closers, pg.Close)
		log.Info("writing records to PostgreSQL too")
	}
	return ws, closeAll, nil
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
