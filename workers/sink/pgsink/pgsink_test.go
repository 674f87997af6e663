package pgsink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/sink/pgsink"
	"github.com/dewire/dewire/workers/sink/pgsink/pgtest"
	"github.com/jackc/pgx/v5"
)

// withSink opens a Sink on a fresh database of one shared server.
func withSink(t *testing.T, srv *pgtest.Server) (*pgsink.Sink, string) {
	t.Helper()
	dsn := srv.CreateDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := pgsink.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, dsn
}

func sample(id string, rev int) *article.Article {
	published := time.Date(2020, 11, 10, 6, 30, 0, 0, time.UTC)
	a := &article.Article{
		Schema: article.Schema,
		ID:     id,
		Rev:    rev,
		Hash:   "4f1c",
		Source: article.Source{
			Name:        "example-agency",
			URL:         "https://example.org/a/1",
			PublishedAt: &published,
			IngestedAt:  time.Date(2020, 11, 10, 7, 0, 0, 123456789, time.UTC),
		},
		Lang: article.Lang{Code: "de", Confidence: 0.97},
		DE: article.Text{
			Title:      "Paschinjan unterzeichnet Abkommen über Bergkarabach",
			Lead:       "„Schmerzhaft“, sagte er.",
			Paragraphs: []string{"Schuscha ist gefallen.", "Peskow äußerte sich."},
		},
		EN: &article.Text{
			Title:      "Pashinyan signs Nagorno-Karabakh agreement",
			Paragraphs: []string{"Shusha has fallen.", "Peskov commented."},
		},
		Segments: []article.Segment{{Para: article.ParaTitle, DE: "Paschinjan unterzeichnet", EN: "Pashinyan signs", FromMemory: true}},
		Entities: []article.Entity{{ID: "person/nikol-pashinyan", Kind: "person", DE: "Nikol Paschinjan", EN: "Nikol Pashinyan",
			Mentions: []article.Mention{{Field: "de.title", Offset: 0, Text: "Paschinjan"}}}},
		Edits: []article.Edit{{Stage: article.StageNormalizeDE, Rule: "names.canonical", Field: "de.paragraphs[0]",
			Offset: 0, Before: "Shushi", After: "Schuscha"}},
		Flags:  []article.Flag{{Stage: article.StageNormalizeEN, Code: "quote.unbalanced", Message: "left alone", Field: "en.lead", Offset: 3}},
		Engine: &article.Engine{Name: "deepl", Segments: 3, FromMemory: 1, Translated: 2, BilledChars: 120},
	}
	a.AddTrace(article.StageIngest, time.Date(2020, 11, 10, 7, 0, 1, 0, time.UTC), 1500*time.Microsecond)
	return a
}

func count(t *testing.T, dsn, id string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM dewire_articles WHERE id = $1", id).Scan(&n); err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

func TestSink(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()

	t.Run("a new record is inserted", func(t *testing.T) {
		s, dsn := withSink(t, srv)
		inserted, err := s.Write(ctx, sample("a1", 1))
		if err != nil || !inserted {
			t.Fatalf("Write = %v, %v; want true, nil", inserted, err)
		}
		if n := count(t, dsn, "a1"); n != 1 {
			t.Fatalf("rows = %d, want 1", n)
		}
	})

	t.Run("writing the same id and rev again is a no-op", func(t *testing.T) {
		s, dsn := withSink(t, srv)
		first := sample("a1", 1)
		if _, err := s.Write(ctx, first); err != nil {
			t.Fatal(err)
		}
		changed := sample("a1", 1)
		changed.DE.Title = "Eine andere Überschrift"
		for _, a := range []*article.Article{first, changed} {
			inserted, err := s.Write(ctx, a)
			if err != nil || inserted {
				t.Fatalf("Write again = %v, %v; want false, nil", inserted, err)
			}
		}
		if n := count(t, dsn, "a1"); n != 1 {
			t.Fatalf("rows = %d, want 1", n)
		}
		var title string
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, "SELECT title_de FROM dewire_articles WHERE id = 'a1'").Scan(&title); err != nil {
			t.Fatal(err)
		}
		if title != first.DE.Title {
			t.Errorf("title_de = %q, want the first write's %q", title, first.DE.Title)
		}
	})

	t.Run("a new rev of the same id is a new row", func(t *testing.T) {
		s, dsn := withSink(t, srv)
		for rev := 1; rev <= 3; rev++ {
			inserted, err := s.Write(ctx, sample("a1", rev))
			if err != nil || !inserted {
				t.Fatalf("Write rev %d = %v, %v; want true, nil", rev, inserted, err)
			}
		}
		if n := count(t, dsn, "a1"); n != 3 {
			t.Fatalf("rows = %d, want 3", n)
		}
	})

	t.Run("concurrent writers of one record leave one row", func(t *testing.T) {
		s, dsn := withSink(t, srv)
		// A second Sink on the same database stands in for a second replica.
		replica, err := pgsink.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer replica.Close()
		const writers = 16
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			inserted int
		)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				target := s
				if i%2 == 1 {
					target = replica
				}
				ok, err := target.Write(ctx, sample("c1", 1))
				if err != nil {
					t.Errorf("Write: %v", err)
					return
				}
				if ok {
					mu.Lock()
					inserted++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if inserted != 1 {
			t.Errorf("writers that inserted = %d, want 1", inserted)
		}
		if n := count(t, dsn, "c1"); n != 1 {
			t.Fatalf("rows = %d, want 1", n)
		}
	})

	t.Run("the record JSON round-trips with its columns filled", func(t *testing.T) {
		s, dsn := withSink(t, srv)
		want := sample("r1", 2)
		if _, err := s.Write(ctx, want); err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var (
			schema, source, titleDE string
			titleEN                 *string
			published, written      time.Time
			record                  []byte
		)
		err = conn.QueryRow(ctx, `SELECT schema, source, published_at, title_de, title_en, record, written_at
			FROM dewire_articles WHERE id = 'r1' AND rev = 2`).
			Scan(&schema, &source, &published, &titleDE, &titleEN, &record, &written)
		if err != nil {
			t.Fatal(err)
		}
		if schema != article.Schema || source != "example-agency" || titleDE != want.DE.Title ||
			titleEN == nil || *titleEN != want.EN.Title || !published.Equal(*want.Source.PublishedAt) || written.IsZero() {
			t.Errorf("columns = %q %q %v %q %v %v", schema, source, published, titleDE, titleEN, written)
		}
		var got article.Article
		if err := json.Unmarshal(record, &got); err != nil {
			t.Fatalf("record: %v", err)
		}
		wantJSON, _ := json.Marshal(want)
		gotJSON, _ := json.Marshal(&got)
		if !bytes.Equal(gotJSON, wantJSON) {
			t.Errorf("record round trip:\n got %s\nwant %s", gotJSON, wantJSON)
		}
	})

	t.Run("a record without English or a publication time stores nulls", func(t *testing.T) {
		s, dsn := withSink(t, srv)
		a := sample("n1", 1)
		a.EN, a.Source.PublishedAt = nil, nil
		if _, err := s.Write(ctx, a); err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var nulls bool
		if err := conn.QueryRow(ctx, "SELECT title_en IS NULL AND published_at IS NULL FROM dewire_articles WHERE id = 'n1'").Scan(&nulls); err != nil {
			t.Fatal(err)
		}
		if !nulls {
			t.Error("title_en and published_at are not NULL")
		}
	})

	t.Run("records the database can never accept are invalid", func(t *testing.T) {
		s, _ := withSink(t, srv)
		nul := sample("bad", 1)
		nul.DE.Title = "Titel\x00mit NUL"
		for _, tc := range []struct {
			name string
			a    *article.Article
		}{
			{"nil article", nil},
			{"empty id", sample("", 1)},
			{"rev zero", sample("x", 0)},
			{"NUL byte in the text", nul},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := s.Write(ctx, tc.a); !errors.Is(err, pgsink.ErrInvalidRecord) {
					t.Fatalf("Write = %v, want ErrInvalidRecord", err)
				}
			})
		}
		// The sink still works after a rejected record.
		if _, err := s.Write(ctx, sample("good", 1)); err != nil {
			t.Fatalf("Write after a rejected record: %v", err)
		}
	})

	t.Run("replicas opening at once all find the table", func(t *testing.T) {
		dsn := srv.CreateDatabase(t)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := pgsink.Open(ctx, dsn)
				if err != nil {
					t.Errorf("Open: %v", err)
					return
				}
				s.Close()
			}()
		}
		wg.Wait()
	})

	t.Run("a write after the connection broke reconnects", func(t *testing.T) {
		s, dsn := withSink(t, srv)
		if _, err := s.Write(ctx, sample("k1", 1)); err != nil {
			t.Fatal(err)
		}
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
			t.Fatal(err)
		}
		// The first write may fail on the dead connection; the next must succeed.
		if _, err := s.Write(ctx, sample("k2", 1)); err != nil {
			t.Logf("write on the terminated connection: %v", err)
		}
		if _, err := s.Write(ctx, sample("k3", 1)); err != nil {
			t.Fatalf("Write after reconnect: %v", err)
		}
	})
}

func TestOpenFailsOnAnUnreachableServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := pgsink.Open(ctx, "host=127.0.0.1 port=1 user=nobody password=secret-xyz dbname=none sslmode=disable connect_timeout=2")
	if err == nil {
		t.Fatal("Open succeeded against port 1")
	}
	if bytes.Contains([]byte(err.Error()), []byte("secret-xyz")) {
		t.Errorf("error leaks the password: %v", err)
	}
}
