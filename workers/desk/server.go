package desk

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"go.uber.org/zap"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/workers/bus"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// ErrInput is returned (wrapped) for an action whose input cannot be used.
var ErrInput = errors.New("desk: invalid input")

var pages = template.Must(template.New("desk").Funcs(template.FuncMap{
	"inert": inert,
	"when":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"query": func(f Filter, before uint64) string {
		v := filterValues(f)
		v.Set("before", strconv.FormatUint(before, 10))
		return "?" + v.Encode()
	},
	"join":  strings.Join,
	"dict2": func(v articleView, f flagView) flagContext { return flagContext{V: v, F: f} },
}).ParseFS(templateFS, "templates/*.html"))

// Handler returns the desk's routes on a new mux.
func (d *Desk) Handler() http.Handler {
	mux := http.NewServeMux()
	d.Register(mux)
	return mux
}

// Register adds the desk's routes to mux: the pages, the feeds, the API,
// the live events and the actions.
func (d *Desk) Register(mux *http.ServeMux) {
	assets, _ := fs.Sub(assetFS, "assets")
	h := func(pattern string, fn http.HandlerFunc) { mux.Handle(pattern, secure(fn)) }
	h("GET /{$}", d.list)
	h("GET /article/{id}", d.articlePage)
	h("GET /names", d.namesPage)
	h("GET /login", d.loginPage)
	h("POST /login", d.login)
	h("POST /logout", d.logout)
	h("GET /events", d.events)
	h("GET /feed.atom", d.feed)
	h("GET /api/articles", d.apiList)
	h("GET /api/articles/{id}", d.apiArticle)
	h("POST /actions/review", d.action(d.doReview))
	h("POST /actions/name", d.action(d.doName))
	h("POST /actions/reprocess", d.action(d.doReprocess))
	mux.Handle("GET /assets/", secure(http.StripPrefix("/assets/", http.FileServerFS(assets)).ServeHTTP))
}

// secure sets the headers that keep article text inert even if escaping
// were ever wrong: no inline script, no framing, no sniffing.
func secure(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "same-origin")
		fn(w, r)
	}
}

// bidi controls could reorder the text around them; they are shown as
// visible code points instead of acting.
var bidiControls = map[rune]bool{
	0x061C: true, 0x200E: true, 0x200F: true, 0x202A: true, 0x202B: true, 0x202C: true, 0x202D: true, 0x202E: true,
	0x2066: true, 0x2067: true, 0x2068: true, 0x2069: true,
}

// inert makes text safe to show as text: bidi controls become visible
// "[U+202E]" marks. HTML escaping is left to the template (or escapeInert).
func inert(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return bidiControls[r] }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if bidiControls[r] {
			fmt.Fprintf(&b, "[U+%04X]", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func escapeInert(s string) string { return template.HTMLEscapeString(inert(s)) }

type base struct {
	Title  string
	Editor string
	CSRF   string
	Path   string
}

func (d *Desk) base(w http.ResponseWriter, r *http.Request) base {
	name, _, _ := d.editor(r)
	return base{Title: d.opt.Title, Editor: name, CSRF: d.csrfToken(w, r), Path: r.URL.RequestURI()}
}

func (d *Desk) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		d.log.Warn("desk: render", zap.String("page", name), zap.Error(err))
	}
}

func parseFilter(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	f := Filter{Source: q.Get("source"), Flag: q.Get("flag"), Entity: q.Get("entity"), Date: q.Get("date"), Query: q.Get("q")}
	if f.Date != "" {
		if _, err := time.Parse("2006-01-02", f.Date); err != nil {
			return f, fmt.Errorf("%w: date %q (want YYYY-MM-DD)", ErrInput, f.Date)
		}
	}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return f, fmt.Errorf("%w: since %q (want RFC 3339)", ErrInput, s)
		}
		f.Since = t
	}
	for name, dst := range map[string]*uint64{"before": &f.Before, "cursor": &f.Before} {
		if s := q.Get(name); s != "" {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return f, fmt.Errorf("%w: %s %q", ErrInput, name, s)
			}
			*dst = n
		}
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return f, fmt.Errorf("%w: limit %q", ErrInput, s)
		}
		f.Limit = n
	}
	return f, nil
}

func filterValues(f Filter) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"source": f.Source, "flag": f.Flag, "entity": f.Entity, "date": f.Date, "q": f.Query} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

func (d *Desk) list(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	page := d.idx.find(f)
	d.render(w, "list.html", struct {
		base
		Filter  Filter
		Page    Page
		Sources []string
		Total   int
		Live    bool
	}{d.base(w, r), f, page, d.idx.sources(), d.idx.Len(), f.Before == 0 && filterValues(f).Encode() == ""})
}

// markedText is one field's final text with its edits marked in place.
type markedText struct {
	Field string
	HTML  template.HTML
	Flags []flagView
}

type flagView struct {
	N        int
	Code     string
	Message  string
	Stage    string
	Field    string
	Reviewed bool
}

type sentence struct{ DE, EN string }

type paraView struct {
	Label     string
	DE, EN    markedText
	Sentences []sentence
}

// flagContext is what the "flag" template needs: the page and one flag.
type flagContext struct {
	V articleView
	F flagView
}

type editView struct {
	article.Edit
	Kind string
}

// editKind sorts a rule into what a desk tells apart.
func editKind(rule string) string {
	switch {
	case strings.HasPrefix(rule, "quote"):
		return "quotes"
	case strings.HasPrefix(rule, "punct"):
		return "punctuation"
	case strings.HasPrefix(rule, "debris"):
		return "debris"
	case strings.HasPrefix(rule, "names"), strings.HasPrefix(rule, "entity"):
		return "names"
	}
	return "other"
}

// mark renders text with each edit's result marked where FinalOffset puts
// it; edits whose span is not where it says (or overlaps an earlier mark)
// are listed but not marked. Everything is escaped.
func mark(text string, edits []article.Edit) template.HTML {
	type span struct {
		start, end int
		e          article.Edit
	}
	var spans []span
	for _, e := range edits {
		s, t := e.FinalOffset, e.FinalOffset+len(e.After)
		if s < 0 || t > len(text) || text[s:t] != e.After {
			continue
		}
		spans = append(spans, span{s, t, e})
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var b strings.Builder
	at := 0
	for _, sp := range spans {
		if sp.start < at {
			continue
		}
		b.WriteString(escapeInert(text[at:sp.start]))
		title := fmt.Sprintf("%s (%s): was “%s”", sp.e.Rule, sp.e.Stage, sp.e.Before)
		cls := "edit kind-" + editKind(sp.e.Rule)
		if sp.e.After == "" {
			fmt.Fprintf(&b, `<del class="%s" title="%s">%s</del>`, cls, escapeInert(title), escapeInert(sp.e.Before))
		} else {
			fmt.Fprintf(&b, `<mark class="%s" data-rule="%s" title="%s">%s</mark>`, cls, escapeInert(sp.e.Rule), escapeInert(title), escapeInert(sp.e.After))
		}
		at = sp.end
	}
	b.WriteString(escapeInert(text[at:]))
	return template.HTML(b.String()) // every piece above went through escapeInert
}

func (d *Desk) articlePage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rev, _ := strconv.Atoi(r.URL.Query().Get("rev"))
	a, sum, err := d.Record(r.Context(), id, rev)
	if errors.Is(err, ErrNotFound) {
		http.Error(w, "no such article", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, "the clean stream cannot be read now", http.StatusServiceUnavailable)
		return
	}
	var prev *article.Article
	for i, rr := range sum.Revisions {
		if rr.Rev == a.Rev && i > 0 {
			prev, _ = d.recordAt(r.Context(), sum.Revisions[i-1].Seq)
		}
	}
	d.render(w, "article.html", d.articleView(w, r, a, sum, prev))
}

type articleView struct {
	base
	A          *article.Article
	Paras      []paraView
	Edits      []editView
	Loose      []flagView // flags on no field shown
	Revisions  []RevRef
	Diff       []diffLine
	PrevRev    int
	SourceURL  string
	OpenFlags  int
	HasEnglish bool
}

type diffLine struct {
	Field         string
	Before, After string
}

func (d *Desk) articleView(w http.ResponseWriter, r *http.Request, a *article.Article, sum Summary, prev *article.Article) articleView {
	v := articleView{base: d.base(w, r), A: a, Revisions: sum.Revisions, HasEnglish: a.EN != nil}
	if u, err := url.Parse(a.Source.URL); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		v.SourceURL = u.String()
	}
	byField := map[string][]article.Edit{}
	for _, e := range a.Edits {
		byField[e.Field] = append(byField[e.Field], e)
		v.Edits = append(v.Edits, editView{e, editKind(e.Rule)})
	}
	flagsOn := map[string][]flagView{}
	for i, f := range a.Flags {
		fv := flagView{N: i, Code: f.Code, Message: f.Message, Stage: f.Stage, Field: f.Field, Reviewed: d.idx.isReviewed(a.ID, a.Rev, i)}
		if !fv.Reviewed {
			v.OpenFlags++
		}
		flagsOn[f.Field] = append(flagsOn[f.Field], fv)
	}
	shown := map[string]bool{}
	text := func(field, s string) markedText {
		shown[field] = true
		return markedText{Field: field, HTML: mark(s, byField[field]), Flags: flagsOn[field]}
	}
	sentences := map[int][]sentence{}
	for _, s := range a.Segments {
		sentences[s.Para] = append(sentences[s.Para], sentence{inert(s.DE), inert(s.EN)})
	}
	en := a.EN
	if en == nil {
		en = &article.Text{}
	}
	add := func(label string, para int, deField, enField, deText, enText string) {
		v.Paras = append(v.Paras, paraView{Label: label, DE: text(deField, deText), EN: text(enField, enText), Sentences: sentences[para]})
	}
	add("title", article.ParaTitle, "de.title", "en.title", a.DE.Title, en.Title)
	if a.DE.Lead != "" || en.Lead != "" {
		add("lead", article.ParaLead, "de.lead", "en.lead", a.DE.Lead, en.Lead)
	}
	for i, p := range a.DE.Paragraphs {
		e := ""
		if i < len(en.Paragraphs) {
			e = en.Paragraphs[i]
		}
		add("¶ "+strconv.Itoa(i+1), i, article.ParagraphField("de", i), article.ParagraphField("en", i), p, e)
	}
	var loose []string
	for field := range flagsOn {
		if !shown[field] {
			loose = append(loose, field)
		}
	}
	sort.Strings(loose)
	for _, field := range loose {
		v.Loose = append(v.Loose, flagsOn[field]...)
	}
	if prev != nil {
		v.PrevRev = prev.Rev
		v.Diff = diffTexts(prev, a)
	}
	return v
}

// diffTexts lists the fields whose text differs between two revisions.
func diffTexts(old, cur *article.Article) []diffLine {
	var out []diffLine
	for _, lang := range []string{"de", "en"} {
		before, after := map[string]string{}, map[string]string{}
		var order []string
		for _, f := range old.Text(lang).Fields(lang) {
			before[f.Name] = *f.Text
			order = append(order, f.Name)
		}
		for _, f := range cur.Text(lang).Fields(lang) {
			after[f.Name] = *f.Text
			if _, ok := before[f.Name]; !ok {
				order = append(order, f.Name)
			}
		}
		for _, name := range order {
			if before[name] != after[name] {
				out = append(out, diffLine{Field: name, Before: inert(before[name]), After: inert(after[name])})
			}
		}
	}
	return out
}

func (d *Desk) namesPage(w http.ResponseWriter, r *http.Request) {
	ns, err := d.Names(r.Context())
	if err != nil {
		d.log.Warn("desk: names", zap.Error(err))
	}
	d.render(w, "names.html", struct {
		base
		Names []Name
	}{d.base(w, r), ns})
}

func (d *Desk) loginPage(w http.ResponseWriter, r *http.Request) {
	d.render(w, "login.html", struct {
		base
		Failed bool
		Next   string
	}{d.base(w, r), r.URL.Query().Get("failed") != "", safeNext(r.URL.Query().Get("next"))})
}

// safeNext keeps a redirect on the desk.
func safeNext(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n") {
		return "/"
	}
	return s
}

func (d *Desk) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !csrfOK(r) {
		http.Error(w, "forbidden: missing or wrong CSRF token", http.StatusForbidden)
		return
	}
	name, ok := d.editorFor(r.PostFormValue("token"))
	if !ok {
		http.Redirect(w, r, "/login?failed=1", http.StatusSeeOther)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: d.session(name), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int(sessionTTL / time.Second)})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (d *Desk) logout(w http.ResponseWriter, r *http.Request) {
	if !csrfOK(r) {
		http.Error(w, "forbidden: missing or wrong CSRF token", http.StatusForbidden)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// action wraps a desk action: an editor (token or session) and, for a
// session, the CSRF token; the answer is JSON for API clients and a
// redirect back for forms.
func (d *Desk) action(fn func(ctx context.Context, who string, r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		who, needCSRF, ok := d.editor(r)
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "an editor token is required for desk actions"})
			return
		}
		if needCSRF && !csrfOK(r) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "missing or wrong CSRF token"})
			return
		}
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unreadable form"})
			return
		}
		// An action is a few writes; each is bounded, and so is the whole.
		ctx, cancel := context.WithTimeout(r.Context(), 2*bus.RequestTimeout)
		defer cancel()
		out, err := fn(ctx, who, r)
		switch {
		case errors.Is(err, ErrInput):
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		case errors.Is(err, ErrNotFound):
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			return
		case err != nil:
			d.log.Warn("desk: action failed", zap.String("path", r.URL.Path), zap.Error(err))
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the action could not be stored; try again"})
			return
		}
		if back := r.PostFormValue("back"); back != "" && needCSRF {
			http.Redirect(w, r, safeNext(back), http.StatusSeeOther)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func formInt(r *http.Request, name string) (int, error) {
	n, err := strconv.Atoi(r.PostFormValue(name))
	if err != nil {
		return 0, fmt.Errorf("%w: %s must be a number", ErrInput, name)
	}
	return n, nil
}

func (d *Desk) doReview(ctx context.Context, who string, r *http.Request) (any, error) {
	rev, err := formInt(r, "rev")
	if err != nil {
		return nil, err
	}
	n, err := formInt(r, "flag")
	if err != nil {
		return nil, err
	}
	id := r.PostFormValue("id")
	if err := d.Review(ctx, who, id, rev, n); err != nil {
		return nil, err
	}
	return map[string]any{"reviewed": true, "id": id, "rev": rev, "flag": n}, nil
}

func (d *Desk) doName(ctx context.Context, who string, r *http.Request) (any, error) {
	var vs []string
	for _, v := range strings.Split(r.PostFormValue("variants"), ",") {
		vs = append(vs, strings.TrimSpace(v))
	}
	key, err := d.PutName(ctx, who, Name{DE: r.PostFormValue("de"), EN: r.PostFormValue("en"), Kind: r.PostFormValue("kind"), Variants: vs})
	if err != nil {
		return nil, err
	}
	return map[string]string{"stored": key}, nil
}

func (d *Desk) doReprocess(ctx context.Context, who string, r *http.Request) (any, error) {
	rev, err := d.Reprocess(ctx, who, r.PostFormValue("id"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"id": r.PostFormValue("id"), "rev": rev}, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (d *Desk) apiList(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, d.idx.find(f))
}

func (d *Desk) apiArticle(w http.ResponseWriter, r *http.Request) {
	rev, _ := strconv.Atoi(r.URL.Query().Get("rev"))
	a, _, err := d.Record(r.Context(), r.PathValue("id"), rev)
	if errors.Is(err, ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the clean stream cannot be read now"})
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// events streams every new article's summary as a server-sent event
// ("article", JSON data) until the client goes.
func (d *Desk) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	ch, cancel := d.subscribe()
	defer cancel()
	fmt.Fprint(w, "retry: 3000\n: connected\n\n")
	fl.Flush()
	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case s := <-ch:
			b, _ := json.Marshal(s)
			fmt.Fprintf(w, "event: article\nid: %d\ndata: %s\n\n", s.Seq, b)
		}
		fl.Flush()
	}
}
