package ingest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
)

func TestHTTPIngest(t *testing.T) {
	ctx := context.Background()
	js := withJS(t)
	revs, err := ingest.NewKVRevisions(ctx, js, bus.BucketRevisions)
	if err != nil {
		t.Fatal(err)
	}
	pub := &ingest.Publisher{JS: js, Revisions: revs}
	srv := httptest.NewServer(ingest.HTTPHandler(&intake.Reader{}, pub.Emit, 1<<20))
	defer srv.Close()

	post := func(t *testing.T, ctype, body string) (int, []ingest.ItemResult) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/articles?source=desk", ctype, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Items []ingest.ItemResult }
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Items
	}
	jsonl := `{"guid":"h1","title":"Bericht eins","paragraphs":["Erster Absatz."]}
{"guid":"h2","title":"Bericht zwei","paragraphs":[1]}
`
	t.Run("JSON Lines answer one result per line", func(t *testing.T) {
		code, items := post(t, "application/x-ndjson", jsonl)
		if code != 200 || len(items) != 2 || items[0].Outcome != "published" || items[0].Rev != 1 ||
			items[1].Outcome != "rejected" || items[1].Code != intake.CodeBadField || items[1].Line != 2 {
			t.Fatalf("%d %+v", code, items)
		}
	})
	t.Run("posting the same article again is a duplicate", func(t *testing.T) {
		_, items := post(t, "application/x-ndjson", jsonl)
		if items[0].Outcome != "duplicate" || items[0].Rev != 1 {
			t.Fatalf("%+v", items)
		}
	})
	t.Run("a plain-text article is accepted", func(t *testing.T) {
		code, items := post(t, "text/plain; charset=utf-8", "Titel\n\nEin Absatz.\n")
		if code != 200 || len(items) != 1 || items[0].Outcome != "published" {
			t.Fatalf("%d %+v", code, items)
		}
	})
	t.Run("articles land on the source's subject", func(t *testing.T) {
		s, _ := js.Stream(ctx, bus.StreamRaw)
		m, err := s.GetLastMsgForSubject(ctx, "articles.raw.desk")
		if err != nil || m.Header.Get(bus.HeaderID) == "" {
			t.Fatalf("%v %v", m, err)
		}
	})
	t.Run("GET is not allowed", func(t *testing.T) {
		resp, _ := http.Get(srv.URL)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("a body over the limit is refused", func(t *testing.T) {
		small := httptest.NewServer(ingest.HTTPHandler(&intake.Reader{}, pub.Emit, 100))
		defer small.Close()
		resp, _ := http.Post(small.URL, "text/plain", strings.NewReader("Titel\n\n"+strings.Repeat("Wort ", 100)))
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}
