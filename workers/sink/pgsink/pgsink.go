package pgsink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Table is the name of the table the sink writes to.
const Table = "dewire_articles"

// ErrInvalidRecord marks a record the database can never accept (no id, a
// rev below 1, text PostgreSQL rejects such as NUL bytes). Retrying it is
// pointless; it belongs in the dead-letter queue.
var ErrInvalidRecord = errors.New("pgsink: invalid record")

// schemaLockKey serializes table creation across sink replicas that start at
// the same time; CREATE TABLE IF NOT EXISTS alone can race in PostgreSQL.
const schemaLockKey = 0x6465776972650001

const createSQL = `
CREATE TABLE IF NOT EXISTS dewire_articles (
	id           text        NOT NULL,
	rev          int         NOT NULL,
	schema       text        NOT NULL,
	source       text        NOT NULL,
	published_at timestamptz,
	title_de     text,
	title_en     text,
	record       jsonb       NOT NULL,
	written_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (id, rev)
);
CREATE INDEX IF NOT EXISTS dewire_articles_source_published_at
	ON dewire_articles (source, published_at);
`

const insertSQL = `
INSERT INTO dewire_articles (id, rev, schema, source, published_at, title_de, title_en, record)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (id, rev) DO NOTHING`

// Sink writes records to PostgreSQL. It is safe for concurrent use; writes
// share one connection, which is reopened after it breaks.
type Sink struct {
	dsn string

	mu   sync.Mutex
	conn *pgx.Conn
}

// Open connects to the database named by dsn (a libpq keyword/value string or
// a postgres:// URL) and creates the table and its index if they are absent.
func Open(ctx context.Context, dsn string) (*Sink, error) {
	s := &Sink{dsn: dsn}
	conn, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := createTable(ctx, conn); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	s.conn = conn
	return s, nil
}

func (s *Sink) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		// pgx masks the password in errors that quote the DSN.
		return nil, fmt.Errorf("pgsink: connect: %w", err)
	}
	return conn, nil
}

func createTable(ctx context.Context, conn *pgx.Conn) error {
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(schemaLockKey)); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, createSQL); err != nil {
			return fmt.Errorf("create: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgsink: create table %s: %w", Table, err)
	}
	return nil
}

// Write stores the record under (a.ID, a.Rev). It reports inserted=false,
// with no error, when a row for that (id, rev) already exists: the row is left
// as it is, so writing the same record twice is harmless.
func (s *Sink) Write(ctx context.Context, a *article.Article) (inserted bool, err error) {
	if a == nil {
		return false, fmt.Errorf("%w: nil article", ErrInvalidRecord)
	}
	if a.ID == "" || a.Rev < 1 {
		return false, fmt.Errorf("%w: id %q rev %d", ErrInvalidRecord, a.ID, a.Rev)
	}
	record, err := json.Marshal(a)
	if err != nil {
		return false, fmt.Errorf("%w: %s: encode: %v", ErrInvalidRecord, a.Key(), err)
	}
	var titleEN *string
	if a.EN != nil {
		titleEN = &a.EN.Title
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil || s.conn.IsClosed() {
		conn, err := s.connect(ctx)
		if err != nil {
			return false, fmt.Errorf("pgsink: write %s: %w", a.Key(), err)
		}
		s.conn = conn
	}
	tag, err := s.conn.Exec(ctx, insertSQL,
		a.ID, a.Rev, a.Schema, a.Source.Name, a.Source.PublishedAt, a.DE.Title, titleEN, record)
	if err != nil {
		if isDataError(err) {
			return false, fmt.Errorf("%w: %s: %v", ErrInvalidRecord, a.Key(), err)
		}
		return false, fmt.Errorf("pgsink: write %s: %w", a.Key(), err)
	}
	return tag.RowsAffected() == 1, nil
}

// Close closes the connection. The Sink must not be used afterwards.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close(context.Background())
	s.conn = nil
	if err != nil {
		return fmt.Errorf("pgsink: close: %w", err)
	}
	return nil
}

// isDataError reports whether PostgreSQL rejected the values themselves
// (SQLSTATE class 22, "data exception"), which no retry can fix.
func isDataError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22")
}
