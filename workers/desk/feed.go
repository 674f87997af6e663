package desk

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dewire/dewire/pipeline/article"
)

// Atom 1.0 (RFC 4287).
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	ID        string     `xml:"id"`
	Title     string     `xml:"title"`
	Updated   string     `xml:"updated"`
	Published string     `xml:"published,omitempty"`
	Links     []atomLink `xml:"link"`
	Category  []atomCat  `xml:"category"`
	Summary   *atomText  `xml:"summary,omitempty"`
	Content   atomText   `xml:"content"`
}

type atomCat struct {
	Term string `xml:"term,attr"`
}

// feed serves /feed.atom: the newest clean articles in English (lang=de:
// German), optionally of one source (source=NAME), as Atom 1.0.
func (d *Desk) feed(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lang := q.Get("lang")
	if lang == "" {
		lang = "en"
	}
	if lang != "en" && lang != "de" {
		http.Error(w, "lang must be en or de", http.StatusBadRequest)
		return
	}
	page := d.idx.find(Filter{Source: q.Get("source"), Limit: 50})
	self := "/feed.atom"
	if v := r.URL.RawQuery; v != "" {
		self += "?" + v
	}
	base := "http://" + r.Host
	if r.TLS != nil {
		base = "https://" + r.Host
	}
	f := atomFeed{Lang: lang, ID: "urn:dewire:feed:" + lang + ":" + url.PathEscape(q.Get("source")),
		Title: d.opt.Title + " (" + lang + ")", Author: atomPerson{Name: "dewire"},
		Links: []atomLink{{Rel: "self", Href: base + self, Type: "application/atom+xml"}, {Rel: "alternate", Href: base + "/", Type: "text/html"}}}
	if q.Get("source") != "" {
		f.Title += ": " + q.Get("source")
	}
	updated := time.Unix(0, 0).UTC()
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	for _, s := range page.Articles {
		a, err := d.recordAt(ctx, s.Revisions[len(s.Revisions)-1].Seq)
		if err != nil {
			continue
		}
		t := a.Text(lang)
		if t == nil {
			continue // no English (translation skipped)
		}
		at := a.Source.IngestedAt.UTC()
		for _, tr := range a.Trace {
			if tr.At.After(at) {
				at = tr.At.UTC()
			}
		}
		if at.After(updated) {
			updated = at
		}
		e := atomEntry{ID: "urn:dewire:" + a.ID + ":" + itoa(a.Rev), Title: xmlText(t.Title), Updated: at.Format(time.RFC3339),
			Links:    []atomLink{{Rel: "alternate", Href: base + "/article/" + a.ID + "?rev=" + itoa(a.Rev), Type: "text/html"}},
			Category: []atomCat{{Term: a.Source.Name}},
			Content:  atomText{Type: "text", Body: xmlText(body(t))}}
		if a.Source.PublishedAt != nil {
			e.Published = a.Source.PublishedAt.UTC().Format(time.RFC3339)
		}
		if t.Lead != "" {
			e.Summary = &atomText{Type: "text", Body: xmlText(t.Lead)}
		}
		f.Entries = append(f.Entries, e)
	}
	if len(f.Entries) == 0 {
		updated = d.opt.Now().UTC()
	}
	f.Updated = updated.Format(time.RFC3339)
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	enc.Indent("", " ")
	_ = enc.Encode(f)
}

func body(t *article.Text) string {
	parts := make([]string, 0, len(t.Paragraphs)+1)
	if t.Lead != "" {
		parts = append(parts, t.Lead)
	}
	parts = append(parts, t.Paragraphs...)
	return strings.Join(parts, "\n\n")
}

// xmlText drops what XML 1.0 cannot carry (encoding/xml would write it
// as U+FFFD at best) and bidi controls.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError, bidiControls[r]:
			return -1
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r >= 0xFFFE && r <= 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return -1
		}
		return r
	}, s)
}
