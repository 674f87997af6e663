package ingest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/workers/ingest"
)

// recordingHandler is POST /articles whose emitter records the items instead of publishing.
func recordingHandler() (http.Handler, func() []intake.Item) {
	var mu sync.Mutex
	var items []intake.Item
	h := ingest.HTTPHandler(&intake.Reader{}, func(_ context.Context, it intake.Item) (ingest.Outcome, error) {
		mu.Lock()
		defer mu.Unlock()
		items = append(items, it)
		if it.Reject != nil {
			return ingest.Rejected, nil
		}
		return ingest.Published, nil
	}, 1<<20)
	return h, func() []intake.Item {
		mu.Lock()
		defer mu.Unlock()
		return append([]intake.Item(nil), items...)
	}
}

func TestAMultipartUploadIsReadPartByPart(t *testing.T) {
	h, items := recordingHandler()
	srv := httptest.NewServer(h)
	defer srv.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "meldung.txt")
	fmt.Fprint(fw, "Titel aus der Datei\n\nErster Absatz.\n")
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", `form-data; name="page"; filename="seite"`)
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	pw, _ := mw.CreatePart(hdr)
	fmt.Fprint(pw, "<html><body><h1>Titel der Seite</h1><script>x()</script><p>Zweiter Absatz.</p></body></html>")
	fw, _ = mw.CreateFormFile("file", "viele.jsonl")
	fmt.Fprint(fw, `{"title":"Eins","body":"A."}`+"\n"+`{"title":"Zwei","body":"B."}`+"\n")
	mw.Close()

	resp, err := http.Post(srv.URL+"/articles?source=desk", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Items []ingest.ItemResult }
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 200 || len(out.Items) != 4 {
		t.Fatalf("%d %+v", resp.StatusCode, out.Items)
	}
	var titles []string
	for _, it := range items() {
		if it.Article == nil {
			t.Fatalf("rejected %+v", it.Reject.Reject)
		}
		titles = append(titles, it.Article.DE.Title+"|"+strings.Join(it.Article.DE.Paragraphs, "|"))
	}
	want := []string{"Titel aus der Datei|Erster Absatz.", "Titel der Seite|Zweiter Absatz.", "Eins|A.", "Zwei|B."}
	if strings.Join(titles, "\n") != strings.Join(want, "\n") {
		t.Fatalf("read\n%s\nwant\n%s", strings.Join(titles, "\n"), strings.Join(want, "\n"))
	}
}

func TestUnsupportedUploadsAreRefusedWith415(t *testing.T) {
	h, items := recordingHandler()
	srv := httptest.NewServer(h)
	defer srv.Close()
	for name, c := range map[string]struct{ ctype, body string }{
		"an image":             {"image/png", "\x89PNG\r\n"},
		"a URL-encoded form":   {"application/x-www-form-urlencoded", "title=x&body=y"},
		"a garbled media type": {"text/", "Titel\n\nText.\n"},
		"a multipart PDF part": {"multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--B--\r\n"},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+"/articles", c.ctype, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnsupportedMediaType {
				t.Fatalf("%d, want 415", resp.StatusCode)
			}
		})
	}
	if n := len(items()); n != 0 {
		t.Fatalf("%d items read from refused uploads", n)
	}
	t.Run("a broken multipart body is a 400", func(t *testing.T) {
		resp, err := http.Post(srv.URL+"/articles", "multipart/form-data; boundary=B", strings.NewReader("--B\r\nno headers end"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%d, want 400", resp.StatusCode)
		}
	})
}

func TestABodyThatStallsAnswers408(t *testing.T) {
	h, _ := recordingHandler()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		h.ServeHTTP(w, r)
	}))
	srv.Start()
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprint(conn, "POST /articles HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nTitel\n\nDer Anfang")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("%d, want 408", resp.StatusCode)
	}
}
