package pgsink_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/sink"
	"github.com/dewire/dewire/workers/sink/pgsink"
	"github.com/dewire/dewire/workers/sink/pgsink/pgtest"
	"github.com/dewire/dewire/workers/sink/sinktest"
	"github.com/jackc/pgx/v5"
)

type writer struct{ s *pgsink.Sink }

func (w writer) Write(ctx context.Context, a *article.Article) error {
	_, err := w.s.Write(ctx, a)
	return err
}
func (w writer) Close() error { return w.s.Close() }

// rows reads every row of the table with its own connection.
func rows(t *testing.T, dsn string) []sinktest.Stored {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	rs, err := conn.Query(ctx, "SELECT id, rev, coalesce(hash, ''), record FROM dewire_articles")
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	var out []sinktest.Stored
	var (
		s      sinktest.Stored
		record []byte
	)
	_, err = pgx.ForEachRow(rs, []any{&s.ID, &s.Rev, &s.Hash, &record}, func() error {
		var a article.Article
		if err := json.Unmarshal(record, &a); err != nil {
			return err
		}
		if a.ID != s.ID || a.Rev != s.Rev || a.Hash != s.Hash {
			t.Errorf("row %s@%d (hash %q) holds record %s (hash %q)", s.ID, s.Rev, s.Hash, a.Key(), a.Hash)
		}
		out = append(out, sinktest.Stored{ID: s.ID, Rev: s.Rev, Hash: s.Hash, Reassigned: a.HasFlag(sink.FlagRevisionReassigned)})
		return nil
	})
	if err != nil {
		t.Fatalf("rows: %v", err)
	}
	return out
}

func TestContract(t *testing.T) {
	srv := pgtest.Start(t)
	var mu sync.Mutex
	dbs := map[string]string{} // one database per folder the suite names
	dsn := func(t *testing.T, dir string) string {
		mu.Lock()
		defer mu.Unlock()
		if d, ok := dbs[dir]; ok {
			return d
		}
		dbs[dir] = srv.CreateDatabase(t)
		return dbs[dir]
	}
	sinktest.Run(t, sinktest.Backend{
		Open: func(t *testing.T, dir string) sinktest.Writer {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := pgsink.Open(ctx, dsn(t, dir))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return writer{s}
		},
		Read:  func(t *testing.T, dir string) []sinktest.Stored { return rows(t, dsn(t, dir)) },
		Flags: true,
	})
}

func TestOtherContentUnderAStoredRevision(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()

	t.Run("is inserted under the next free rev and the first row stays", func(t *testing.T) {
		s, dsn := withSink(t, srv)
		for rev := 1; rev <= 2; rev++ {
			if _, err := s.Write(ctx, sample("a1", rev)); err != nil {
				t.Fatal(err)
			}
		}
		changed := sample("a1", 1)
		changed.Hash, changed.DE.Title = "9e0d", "Eine andere Überschrift"
		for i := range 2 {
			inserted, err := s.Write(ctx, changed)
			if err != nil || inserted != (i == 0) {
				t.Fatalf("write %d of the changed record = %v, %v; want %v, nil", i+1, inserted, err, i == 0)
			}
		}
		if changed.Rev != 1 || changed.HasFlag(sink.FlagRevisionReassigned) {
			t.Fatal("Write changed the record it was given")
		}
		got := map[int]sinktest.Stored{}
		for _, r := range rows(t, dsn) {
			got[r.Rev] = r
		}
		if len(got) != 3 || got[1].Hash != "4f1c" || got[2].Hash != "4f1c" || got[3].Hash != "9e0d" || !got[3].Reassigned {
			t.Fatalf("rows %+v; want revs 1 and 2 as written and the changed content as rev 3, flagged", got)
		}
	})

	t.Run("a table from before the hash column is upgraded and its records' hashes decide", func(t *testing.T) {
		dsn := srv.CreateDatabase(t)
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		old := sample("o1", 1)
		record, _ := json.Marshal(old)
		if _, err := conn.Exec(ctx, `CREATE TABLE dewire_articles (
			id text NOT NULL, rev int NOT NULL, schema text NOT NULL, source text NOT NULL,
			published_at timestamptz, title_de text, title_en text, record jsonb NOT NULL,
			written_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (id, rev))`); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO dewire_articles (id, rev, schema, source, record) VALUES ('o1', 1, $1, 'x', $2)`,
			article.Schema, record); err != nil {
			t.Fatal(err)
		}
		s, err := pgsink.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if inserted, err := s.Write(ctx, sample("o1", 1)); err != nil || inserted {
			t.Fatalf("the stored record again = %v, %v; want false, nil", inserted, err)
		}
		changed := sample("o1", 1)
		changed.Hash = "77aa"
		if inserted, err := s.Write(ctx, changed); err != nil || !inserted {
			t.Fatalf("changed content = %v, %v; want true, nil", inserted, err)
		}
		if n := count(t, dsn, "o1"); n != 2 {
			t.Fatalf("rows = %d, want 2", n)
		}
	})
}
