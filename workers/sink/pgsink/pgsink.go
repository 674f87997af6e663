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
	hash         text,
	PRIMARY KEY (id, rev)
);
ALTER TABLE dewire_articles ADD COLUMN IF NOT EXISTS hash text;
CREATE INDEX IF NOT EXISTS dewire_articles_source_published_at
	ON dewire_articles (source, published_at);
`

// insertSQL never overwrites a row: (id, rev) holds the content first
// stored under it.
const insertSQL = `
INSERT INTO dewire_articles (id, rev, schema, source, published_at, title_de, title_en, record, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (id, rev) DO NOTHING`

// revisionsSQL lists what the table holds for an id; rows written before
// the hash column existed have their hash in the record.
const revisionsSQL = `
SELECT rev, coalesce(hash, record->>'hash', '') FROM dewire_articles WHERE id = $1`

// idLockSpace is the first key of the advisory lock that serializes the
// revision decision for one id across sink replicas (the id's hash is the
// second).
const idLockSpace = 0x64657769

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
// with no error, when the table holds the record already: a row for that
// (id, rev) with the same content hash, or, when that row holds other
// content, any revision of the id with this hash. A row is never
// overwritten: other content under a stored (id, rev) is inserted under the
// next free revision, flagged article.FlagRevisionReassigned, by the rule all
// sink writers share (article.ResolveRevision). a itself is not changed.
func (s *Sink) Write(ctx context.Context, a *article.Article) (inserted bool, err error) {
	if a == nil {
		return false, fmt.Errorf("%w: nil article", ErrInvalidRecord)
	}
	if a.ID == "" || a.Rev < 1 {
		return false, fmt.Errorf("%w: id %q rev %d", ErrInvalidRecord, a.ID, a.Rev)
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
	inserted, err = insert(ctx, s.conn, a)
	if err != nil {
		return false, classify(a, err)
	}
	if inserted {
		return true, nil
	}
	// (id, rev) is taken. Decide under a lock on the id, so that replicas
	// resolving other content for it at once pick different revisions; a
	// fast-path insert of a free rev elsewhere can still take the chosen one,
	// so try again then.
	for range 8 {
		var done bool
		err := pgx.BeginFunc(ctx, s.conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", int32(idLockSpace), a.ID); err != nil {
				return err
			}
			held, err := heldRevisions(ctx, tx, a.ID)
			if err != nil {
				return err
			}
			rev, dup := article.ResolveRevision(held, a.Rev, a.Hash)
			if dup {
				done = true
				return nil
			}
			rec := a
			if rev != a.Rev {
				rec = article.Reassign(a, rev)
			}
			done, err = insert(ctx, tx, rec)
			inserted = done
			return err
		})
		if err != nil {
			return false, classify(a, err)
		}
		if done {
			return inserted, nil
		}
	}
	return false, fmt.Errorf("pgsink: write %s: no free revision after 8 tries", a.Key())
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// insert adds a's row unless (id, rev) is taken.
func insert(ctx context.Context, db execer, a *article.Article) (bool, error) {
	record, err := json.Marshal(a)
	if err != nil {
		return false, fmt.Errorf("%w: %s: encode: %v", ErrInvalidRecord, a.Key(), err)
	}
	var titleEN *string
	if a.EN != nil {
		titleEN = &a.EN.Title
	}
	tag, err := db.Exec(ctx, insertSQL,
		a.ID, a.Rev, a.Schema, a.Source.Name, a.Source.PublishedAt, a.DE.Title, titleEN, record, a.Hash)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

func heldRevisions(ctx context.Context, tx pgx.Tx, id string) (map[int]string, error) {
	rows, err := tx.Query(ctx, revisionsSQL, id)
	if err != nil {
		return nil, err
	}
	held := map[int]string{}
	var (
		rev  int
		hash string
	)
	_, err = pgx.ForEachRow(rows, []any{&rev, &hash}, func() error {
		held[rev] = hash
		return nil
	})
	return held, err
}

func classify(a *article.Article, err error) error {
	if errors.Is(err, ErrInvalidRecord) {
		return err
	}
	if isDataError(err) {
		return fmt.Errorf("%w: %s: %v", ErrInvalidRecord, a.Key(), err)
	}
	return fmt.Errorf("pgsink: write %s: %w", a.Key(), err)
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
