package desk_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/desk"
)

func TestAPIPagesThroughEveryCleanArticleOnceNewestFirst(t *testing.T) {
	e := startDesk(t)
	clean := e.p.Stats().Clean
	var seen []desk.Summary
	cursor := uint64(0)
	for range 100 {
		var page desk.Page
		getJSON(t, e.url+"/api/articles?limit=3&cursor="+itoa(cursor), &page)
		seen = append(seen, page.Articles...)
		if page.Next == 0 {
			break
		}
		cursor = page.Next
	}
	if len(seen) != clean || clean < 8 {
		t.Fatalf("paged %d articles, the sink stored %d", len(seen), clean)
	}
	ids := map[string]bool{}
	for i, s := range seen {
		if ids[s.ID] {
			t.Errorf("%s listed twice", s.ID)
		}
		ids[s.ID] = true
		if i > 0 && s.Seq >= seen[i-1].Seq {
			t.Errorf("not newest first at %d: seq %d after %d", i, s.Seq, seen[i-1].Seq)
		}
		var rec article.Article // getJSON validates the record against the schema
		getJSON(t, e.url+"/api/articles/"+s.ID, &rec)
		if rec.ID != s.ID || rec.Rev != s.Rev || rec.DE.Title != s.TitleDE {
			t.Errorf("record %s@%d does not match its summary %+v", rec.ID, rec.Rev, s)
		}
	}
	var shusha desk.Page
	getJSON(t, e.url+"/api/articles?q=Shusha+Iskander", &shusha)
	if len(shusha.Articles) != 1 || !strings.Contains(shusha.Articles[0].TitleDE, "Iskander") {
		t.Errorf("search for the seed's words found %+v", shusha.Articles)
	}
}

func TestAtomFeedIsValidAtomPerLanguageAndSource(t *testing.T) {
	e := startDesk(t)
	xmllint := testenv.Tool(t, "xmllint", "libxml2-utils")
	var all desk.Page
	getJSON(t, e.url+"/api/articles?limit=500", &all)
	sources := map[string]int{}
	for _, s := range all.Articles {
		sources[s.Source]++
	}
	for _, tc := range []struct{ name, query, lang string }{
		{"English by default", "", "en"},
		{"German on request", "?lang=de", "de"},
		{"one source", "?source=" + url.QueryEscape(all.Articles[0].Source), "en"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(e.url + "/feed.atom" + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/atom+xml") {
				t.Errorf("content type %q", ct)
			}
			path := filepath.Join(t.TempDir(), "feed.atom")
			os.WriteFile(path, body, 0o644)
			if out, err := exec.Command(xmllint, "--noout", path).CombinedOutput(); err != nil {
				t.Fatalf("xmllint: %v %s", err, out)
			}
			feed, err := gofeed.NewParser().ParseString(string(body))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			if feed.FeedType != "atom" || feed.FeedVersion != "1.0" || feed.Language != tc.lang {
				t.Errorf("feed type %s %s, language %q", feed.FeedType, feed.FeedVersion, feed.Language)
			}
			want := len(all.Articles)
			if strings.Contains(tc.query, "source=") {
				want = sources[all.Articles[0].Source]
			}
			if len(feed.Items) != want {
				t.Errorf("%d entries, want %d", len(feed.Items), want)
			}
			for _, it := range feed.Items {
				if it.GUID == "" || it.Title == "" || it.UpdatedParsed == nil || it.Content == "" || len(it.Links) == 0 {
					t.Errorf("incomplete entry %+v", it)
				}
				if tc.lang == "en" && strings.Contains(it.Content, "Alijew") {
					t.Errorf("English entry has a German name form: %q", it.Title)
				}
			}
		})
	}
}

// client is a browser-like client: cookies, forms, no redirects followed.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

// csrf loads a page and returns the CSRF token of its forms.
func (c *client) csrf(path string) string {
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		c.t.Fatalf("%s has no CSRF token", path)
	}
	return string(m[1])
}

func (c *client) post(path string, form url.Values, header http.Header) (int, string) {
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestActionsNeedAnEditorAndTheCSRFTokenAndAreAudited(t *testing.T) {
	e := startDesk(t)
	var page desk.Page
	getJSON(t, e.url+"/api/articles?flag="+article.FlagTranslationSkipped, &page)
	var flagged desk.Summary
	getJSON(t, e.url+"/api/articles?limit=500", &page)
	for _, s := range page.Articles {
		if s.Flags > 0 {
			flagged = s
			break
		}
	}
	if flagged.ID == "" {
		t.Fatal("no article with a flag")
	}
	review := url.Values{"id": {flagged.ID}, "rev": {itoa(uint64(flagged.Rev))}, "flag": {"0"}}

	anon := newClient(t, e.url)
	tok := anon.csrf("/login")
	review.Set("csrf", tok)
	if code, _ := anon.post("/actions/review", review, nil); code != http.StatusUnauthorized {
		t.Errorf("anonymous review: %d, want 401", code)
	}
	if code, _ := anon.post("/actions/review", review, http.Header{"Authorization": {"Bearer not-a-token-at-all-000"}}); code != http.StatusUnauthorized {
		t.Errorf("review with a wrong token: %d, want 401", code)
	}

	ed := newClient(t, e.url)
	login := url.Values{"token": {editorToken}, "next": {"/"}, "csrf": {ed.csrf("/login")}}
	if code, _ := ed.post("/login", login, nil); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	noCSRF := url.Values{"id": review["id"], "rev": review["rev"], "flag": review["flag"]}
	if code, _ := ed.post("/actions/review", noCSRF, nil); code != http.StatusForbidden {
		t.Errorf("session without CSRF token: %d, want 403", code)
	}
	withCSRF := url.Values{"id": review["id"], "rev": review["rev"], "flag": review["flag"], "csrf": {ed.csrf("/")}}
	if code, _ := ed.post("/actions/review", withCSRF, http.Header{"Origin": {"http://evil.example"}}); code != http.StatusForbidden {
		t.Errorf("cross-origin post: %d, want 403", code)
	}
	if s, _ := getSummary(t, e, flagged.ID); s.OpenFlags != flagged.OpenFlags {
		t.Fatalf("a refused action changed the open flags: %d → %d", flagged.OpenFlags, s.OpenFlags)
	}
	if code, body := ed.post("/actions/review", withCSRF, nil); code != http.StatusOK {
		t.Fatalf("editor's review: %d %s", code, body)
	}
	if s, _ := getSummary(t, e, flagged.ID); s.OpenFlags != flagged.OpenFlags-1 {
		t.Errorf("open flags %d after the review, want %d", s.OpenFlags, flagged.OpenFlags-1)
	}

	// API clients act with the bearer token and no CSRF token.
	api := newClient(t, e.url)
	code, body := api.post("/actions/name", url.Values{"de": {"Hans Würstel"}, "en": {"Hans Wurstl"}, "variants": {"Hans Wurstel"}},
		http.Header{"Authorization": {"Bearer " + editorToken}})
	if code != http.StatusOK {
		t.Fatalf("name by token: %d %s", code, body)
	}

	audit := auditLog(t, e)
	if len(audit) != 2 || audit[0].Who != "Erika" || audit[0].Action != desk.ActionReviewed || audit[0].ID != flagged.ID ||
		audit[1].Action != desk.ActionName || audit[0].At.IsZero() {
		t.Errorf("audit log %+v", audit)
	}
}

func getSummary(t *testing.T, e *deskEnv, id string) (desk.Summary, bool) {
	var page desk.Page
	getJSON(t, e.url+"/api/articles?limit=500", &page)
	for _, s := range page.Articles {
		if s.ID == id {
			return s, true
		}
	}
	return desk.Summary{}, false
}

func auditLog(t *testing.T, e *deskEnv) []desk.Audit {
	t.Helper()
	ctx := deadline(t, 10*time.Second)
	kv, err := e.p.JetStream().KeyValue(ctx, bus.BucketDesk)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.ListKeys(ctx, jetstream.MetaOnly())
	if err != nil {
		t.Fatal(err)
	}
	var out []desk.Audit
	for k := range keys.Keys() {
		if !strings.HasPrefix(k, "audit.") {
			continue
		}
		v, err := kv.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		var a desk.Audit
		json.Unmarshal(v.Value(), &a)
		out = append(out, a)
	}
	return out
}

const hostileArticle = `Angriff <script>window.__pwned=1</script> auf die Redaktion in Baku

Der Bericht <img src=x onerror="window.__pwned=2"> enthält einen Link <a href="javascript:window.__pwned=3">hier klicken</a> und Steuerzeichen ` + "\u202Egnut\u202C" + ` in der Mitte des Satzes, wie die Agentur am Montag mitteilte.

Die Behörden in Aserbaidschan haben nach Angaben des Ministeriums eine Untersuchung eingeleitet, die mehrere Wochen dauern soll.
`

func TestHostileArticleTextIsEscaped(t *testing.T) {
	e := startDesk(t)
	e.ingest(t, "hostile.txt", hostileArticle)
	var page desk.Page
	getJSON(t, e.url+"/api/articles?q=Redaktion", &page)
	if len(page.Articles) != 1 {
		t.Fatalf("hostile article not listed: %+v", page.Articles)
	}
	for _, path := range []string{"/", "/article/" + page.Articles[0].ID} {
		resp, err := http.Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, bad := range []string{"<script>window", "<img src=x", `href="javascript:`, "\u202E"} {
			if bytes.Contains(body, []byte(bad)) {
				t.Errorf("%s contains %q unescaped", path, bad)
			}
		}
		if !bytes.Contains(body, []byte("&lt;script&gt;")) {
			t.Errorf("%s does not show the article's <script> as text", path)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
}

func TestANameAddedAtTheDeskAppliesToTheNextArticleAndReprocess(t *testing.T) {
	e := startDesk(t)
	const text = "Minister Hans Wurstel besucht Baku\n\nDer Minister Hans Wurstel sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt, und er rechne mit einer Einigung.\n"
	e.ingest(t, "before.txt", text)
	var before desk.Page
	getJSON(t, e.url+"/api/articles?q=Wurstel", &before)
	if len(before.Articles) != 1 {
		t.Fatalf("article before the name: %+v", before.Articles)
	}
	api := newClient(t, e.url)
	bearer := http.Header{"Authorization": {"Bearer " + editorToken}}
	if code, body := api.post("/actions/name", url.Values{"de": {"Hans Würstel"}, "en": {"Hans Wurstl"}, "variants": {"Hans Wurstel"}}, bearer); code != http.StatusOK {
		t.Fatalf("add name: %d %s", code, body)
	}
	natstest.Eventually(t, 10*time.Second, "the normalize workers to see the desk's name", func() bool { return e.names.Len() == 1 })

	e.ingest(t, "after.txt", strings.ReplaceAll(text, "Montag", "Dienstag"))
	var after desk.Page
	getJSON(t, e.url+"/api/articles?q=Dienstag+Minister", &after)
	if len(after.Articles) != 1 {
		t.Fatalf("article after the name: %+v", after.Articles)
	}
	var rec article.Article
	getJSON(t, e.url+"/api/articles/"+after.Articles[0].ID, &rec)
	if !strings.Contains(rec.DE.Paragraphs[0], "Hans Würstel") || rec.EN == nil || !strings.Contains(rec.EN.Paragraphs[0], "Hans Wurstl") {
		t.Errorf("the desk's name was not applied: de %q en %v", rec.DE.Paragraphs[0], rec.EN)
	}

	// Reprocess the first article: a new revision with the name; rev 1 stays as stored.
	id := before.Articles[0].ID
	code, body := api.post("/actions/reprocess", url.Values{"id": {id}}, bearer)
	if code != http.StatusOK {
		t.Fatalf("reprocess: %d %s", code, body)
	}
	ctx := deadline(t, time.Minute)
	if err := e.p.Wait(ctx, nil); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 30*time.Second, "the new revision on the desk", func() bool {
		s, _ := getSummary(t, e, id)
		return s.Rev == 2
	})
	var rev1, rev2 article.Article
	getJSON(t, e.url+"/api/articles/"+id+"?rev=1", &rev1)
	getJSON(t, e.url+"/api/articles/"+id, &rev2)
	if strings.Contains(rev1.DE.Paragraphs[0], "Würstel") || !strings.Contains(rev2.DE.Paragraphs[0], "Hans Würstel") || !rev2.HasFlag(desk.FlagReprocessed) {
		t.Errorf("rev 1 %q, rev 2 %q flags %+v", rev1.DE.Paragraphs[0], rev2.DE.Paragraphs[0], rev2.Flags)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func TestFiltersSelectExactlyTheMatchingArticles(t *testing.T) {
	e := startDesk(t)
	var all desk.Page
	getJSON(t, e.url+"/api/articles?limit=500", &all)
	has := func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	}
	first := all.Articles[len(all.Articles)-1]
	day := first.Time.UTC().Format("2006-01-02")
	for _, tc := range []struct {
		name, query string
		want        func(desk.Summary) bool
	}{
		{"by source", "source=" + url.QueryEscape(first.Source), func(s desk.Summary) bool { return s.Source == first.Source }},
		{"by flag code", "flag=entity.mismatch", func(s desk.Summary) bool { return has(s.FlagCodes, "entity.mismatch") }},
		{"by entity id", "entity=ilham-aliyev", func(s desk.Summary) bool { return has(s.Entities, "ilham-aliyev") }},
		{"by date", "date=" + day, func(s desk.Summary) bool { return s.Time.UTC().Format("2006-01-02") == day }},
		{"since", "since=" + url.QueryEscape(first.Time.UTC().Format(time.RFC3339)), func(s desk.Summary) bool { return !s.Time.Before(first.Time.Truncate(time.Second)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got desk.Page
			getJSON(t, e.url+"/api/articles?limit=500&"+tc.query, &got)
			want := 0
			for _, s := range all.Articles {
				if tc.want(s) {
					want++
				}
			}
			if want == 0 {
				t.Fatalf("the examples have no article for %s", tc.query)
			}
			if len(got.Articles) != want {
				t.Errorf("%s: %d articles, want %d", tc.query, len(got.Articles), want)
			}
			for _, s := range got.Articles {
				if !tc.want(s) {
					t.Errorf("%s: %s does not match", tc.query, s.ID)
				}
			}
		})
	}
	resp, err := http.Get(e.url + "/api/articles?date=yesterday")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad date answered %d, want 400", resp.StatusCode)
	}
}

func TestEditorsFile(t *testing.T) {
	got, err := desk.ParseEditors(strings.NewReader("# desk\nErika:erika-token-0123456789\n\nbare-token-0123456789abc\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got["erika-token-0123456789"] != "Erika" || got["bare-token-0123456789abc"] != "editor" || len(got) != 2 {
		t.Errorf("editors %v", got)
	}
	if _, err := desk.ParseEditors(strings.NewReader("Erika:short\n")); !errors.Is(err, desk.ErrEditors) {
		t.Errorf("a short token: %v, want ErrEditors", err)
	}
}
