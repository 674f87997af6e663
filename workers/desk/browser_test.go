package desk_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/workers/desk"
)

var update = flag.Bool("update", false, "rewrite the screenshots under docs/")

// browser starts a headless Chromium (Debian's chromium) for the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := testenv.Tool(t, "chromium", "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	// The first call starts the browser and must not carry a timeout; it is
	// bounded by a watchdog that cancels the browser's context instead.
	watchdog := time.AfterFunc(time.Minute, cancelB)
	err := chromedp.Do(ctx)
	watchdog.Stop()
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step bounds one browser action.
func step(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 30*time.Second)
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := step(ctx)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := step(ctx)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !*update {
		return
	}
	png := get(t, ctx, "screenshot "+name, chromedp.CaptureScreenshot()) // the viewport, 1280×900
	path := filepath.Join(testenv.Root(t), "docs", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDeskInABrowser(t *testing.T) {
	e := startDesk(t)
	ctx := browser(t)
	var all desk.Page
	getJSON(t, e.url+"/api/articles?limit=500", &all)
	var seed desk.Summary
	for _, s := range all.Articles {
		if strings.Contains(s.TitleDE, "Iskander") {
			seed = s
		}
	}
	if seed.ID == "" {
		t.Fatal("the seed is not on the desk")
	}

	t.Run("the list shows every clean article", func(t *testing.T) {
		do(t, ctx, "list", chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(css("#articles tbody tr")))
		rows := get(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll("#articles tbody tr").length`))
		text := get(t, ctx, "text", chromedp.Text(css("#articles")))
		if rows != len(all.Articles) || rows != e.p.Stats().Clean {
			t.Errorf("%d rows, %d clean articles", rows, e.p.Stats().Clean)
		}
		if !strings.Contains(text, seed.TitleDE) || !strings.Contains(text, seed.TitleEN) {
			t.Errorf("the seed's titles are not listed")
		}
		screenshot(t, ctx, "desk-list.png")
	})

	t.Run("the article page shows the seed's edits and flags", func(t *testing.T) {
		do(t, ctx, "article", chromedp.Navigate(e.url+"/article/"+seed.ID), chromedp.WaitVisible(css("table.side")))
		kinds := get(t, ctx, "edits", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("table.side .edit")).map(m => m.className)`))
		flags := get(t, ctx, "flags", chromedp.Evaluate[int](`document.querySelectorAll("li.flag").length`))
		joined := strings.Join(kinds, " ")
		for _, k := range []string{"kind-names", "kind-quotes", "kind-punctuation"} {
			if !strings.Contains(joined, k) {
				t.Errorf("no %s edit marked in the text (%d marks)", k, len(kinds))
			}
		}
		if flags == 0 || flags != seed.Flags {
			t.Errorf("%d flags shown, the record has %d", flags, seed.Flags)
		}
		title := get(t, ctx, "edit title", chromedp.AttributeValue(css("table.side mark.kind-names"), "title"))
		if !strings.Contains(title.Value, "names.") || !strings.Contains(title.Value, "was") {
			t.Errorf("a names edit does not say what was there before: %q", title.Value)
		}
		screenshot(t, ctx, "desk-article.png")
	})

	t.Run("an action without the token is refused", func(t *testing.T) {
		do(t, ctx, "article", chromedp.Navigate(e.url+"/article/"+seed.ID), chromedp.WaitVisible(css("table.side")))
		status := get(t, ctx, "anonymous post", chromedp.Evaluate[int](`fetch("/actions/review", {method: "POST",
			headers: {"Content-Type": "application/x-www-form-urlencoded"},
			body: new URLSearchParams({id: "`+seed.ID+`", rev: "`+itoa(uint64(seed.Rev))+`", flag: "0", csrf: document.body.dataset.csrf})}).then(r => r.status)`,
			chromedp.EvalAwaitPromise))
		if status != 401 {
			t.Errorf("anonymous action answered %d, want 401", status)
		}
		if s, _ := getSummary(t, e, seed.ID); s.OpenFlags != seed.OpenFlags {
			t.Errorf("the refused action changed the open flags")
		}
	})

	t.Run("marking a flag reviewed persists across a reload", func(t *testing.T) {
		do(t, ctx, "login", chromedp.Navigate(e.url+"/login?next=/article/"+seed.ID), chromedp.WaitVisible(css("#token")),
			chromedp.SendKeys(css("#token"), editorToken), chromedp.Click(css("#login-submit")), chromedp.WaitVisible(css("#editor")))
		do(t, ctx, "review", chromedp.Click(css("li.flag form.review button")), chromedp.WaitVisible(css("li.flag.reviewed")),
			chromedp.Reload(), chromedp.WaitVisible(css("table.side")))
		reviewed := get(t, ctx, "count", chromedp.Evaluate[int](`document.querySelectorAll("li.flag.reviewed").length`))
		if reviewed != 1 {
			t.Errorf("%d flags reviewed after the reload, want 1", reviewed)
		}
	})

	t.Run("a name added is applied to the next article, which arrives live", func(t *testing.T) {
		do(t, ctx, "add name", chromedp.Navigate(e.url+"/names"), chromedp.WaitVisible(css("#add-name")),
			chromedp.SendKeys(css(`input[name="de"]`), "Hans Würstel"), chromedp.SendKeys(css(`input[name="en"]`), "Hans Wurstl"),
			chromedp.SendKeys(css(`input[name="variants"]`), "Hans Wurstel"), chromedp.Click(css("#add-name")),
			chromedp.WaitVisible(css("table.names td")))
		natstest.Eventually(t, 10*time.Second, "the normalize workers to see the name", func() bool { return e.names.Len() == 1 })
		do(t, ctx, "list", chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(css("#articles tbody tr")))
		natstest.Eventually(t, 10*time.Second, "the live connection", func() bool {
			sctx, cancel := step(ctx)
			defer cancel()
			live, _ := chromedp.Run(sctx, chromedp.Text(css("#live")))
			return live == "live"
		})
		e.ingest(t, "wurstel.txt", "Minister Hans Wurstel besucht Baku\n\nDer Minister Hans Wurstel sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt, und er rechne mit einer Einigung.\n")
		do(t, ctx, "live row", chromedp.WaitVisible(css("#articles tbody tr.fresh")))
		titles := get(t, ctx, "live row", chromedp.Text(css("#articles tbody tr.fresh")))
		if !strings.Contains(titles, "Hans Würstel") || !strings.Contains(titles, "Hans Wurstl") {
			t.Errorf("the new article's titles %q lack the desk's name", titles)
		}
		do(t, ctx, "open it", chromedp.Click(css("#articles tbody tr.fresh a")), chromedp.WaitVisible(css("table.side")))
		en := get(t, ctx, "english", chromedp.Text(css(`td[data-field="en.title"]`)))
		if !strings.Contains(en, "Hans Wurstl") {
			t.Errorf("English title %q lacks the desk's English form", en)
		}
	})

	t.Run("a script in an article does not execute", func(t *testing.T) {
		e.ingest(t, "hostile.txt", hostileArticle)
		var page desk.Page
		getJSON(t, e.url+"/api/articles?q=Redaktion", &page)
		if len(page.Articles) != 1 {
			t.Fatalf("hostile article not on the desk")
		}
		do(t, ctx, "hostile page", chromedp.Navigate(e.url+"/article/"+page.Articles[0].ID), chromedp.WaitVisible(css("table.side")),
			chromedp.Sleep(300*time.Millisecond)) // give an injected handler (onerror) its chance to run
		pwned := get(t, ctx, "pwned", chromedp.Evaluate[bool](`window.__pwned !== undefined || document.querySelector("table.side img, table.side script, table.side a[href^='javascript']") !== null`))
		shown := get(t, ctx, "title", chromedp.Text(css(`td[data-field="de.title"]`)))
		if pwned {
			t.Error("the article's markup became live in the page")
		}
		if !strings.Contains(shown, "<script>") {
			t.Errorf("the article's <script> is not shown as text: %q", shown)
		}
		do(t, ctx, "hostile list", chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(css("#articles tbody tr")))
		if get(t, ctx, "pwned", chromedp.Evaluate[bool](`window.__pwned !== undefined`)) {
			t.Error("the article's script ran on the list")
		}
	})
}
