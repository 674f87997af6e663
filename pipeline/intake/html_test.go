package intake_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/dewire/dewire/pipeline/intake"
)

const savedPage = `<!DOCTYPE html>
<html lang="de"><head>
<meta charset="utf-8"><title>Agentur | Gespräche in Baku</title>
<style>body { color: red }</style>
<script>window.track = function() { document.write("<p>Werbung</p>") }</script>
</head>
<body>
<nav><a href="/">Start</a></nav>
<noscript><p>Bitte JavaScript aktivieren</p></noscript>
<h1>Alijew kündigt <em>neue</em> Gespräche an</h1>
<p>Der Präsident <b>Ilham Alijew</b> sagte am Montag in Baku, die Gespräche würden fortgesetzt.</p>
<p>Nach Angaben des Ministeriums<br>wurden mehrere Dörfer &amp; Städte evakuiert.</p>
<svg><text>Grafik</text></svg>
<script type="application/ld+json">{"@type":"NewsArticle"}</script>
<template><p>Vorlage</p></template>
<!-- Kommentar -->
</body></html>`

func readOne(t *testing.T, o intake.Origin, input string) intake.Item {
	t.Helper()
	var got []intake.Item
	err := (&intake.Reader{}).Read(context.Background(), strings.NewReader(input), o, func(it intake.Item) error {
		got = append(got, it)
		return nil
	})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v, %d items", err, len(got))
	}
	return got[0]
}

func TestASavedHTMLPageBecomesText(t *testing.T) {
	for name, o := range map[string]intake.Origin{
		"by its .html extension":   {Path: "inbox/seite.html"},
		"sniffed from its doctype": {Path: "inbox/seite"},
	} {
		t.Run(name, func(t *testing.T) {
			it := readOne(t, o, savedPage)
			if it.Article == nil {
				t.Fatalf("rejected: %+v", it.Reject.Reject)
			}
			de := it.Article.DE
			if de.Title != "Alijew kündigt neue Gespräche an" {
				t.Errorf("title %q", de.Title)
			}
			want := []string{
				"Start",
				"Der Präsident Ilham Alijew sagte am Montag in Baku, die Gespräche würden fortgesetzt.",
				"Nach Angaben des Ministeriums",
				"wurden mehrere Dörfer & Städte evakuiert.",
			}
			if !reflect.DeepEqual(de.Paragraphs, want) {
				t.Errorf("paragraphs %q\nwant %q", de.Paragraphs, want)
			}
			all := de.Title + strings.Join(de.Paragraphs, "\n")
			for _, never := range []string{"<", "track", "color", "Werbung", "JavaScript", "Grafik", "NewsArticle", "Vorlage", "Kommentar"} {
				if strings.Contains(all, never) {
					t.Errorf("%q reached the record: %q", never, all)
				}
			}
		})
	}
}

func TestAPageWithoutH1TakesItsTitleElement(t *testing.T) {
	it := readOne(t, intake.Origin{Path: "a.htm"}, `<html><head><title>Meldung aus Eriwan</title></head><body><div>Der Premier sprach.</div></body></html>`)
	if it.Article == nil || it.Article.DE.Title != "Meldung aus Eriwan" || !reflect.DeepEqual(it.Article.DE.Paragraphs, []string{"Der Premier sprach."}) {
		t.Fatalf("%+v", it)
	}
}

func TestHTMLInJSONFieldsBecomesText(t *testing.T) {
	it := readOne(t, intake.Origin{Path: "a.json"},
		`{"title":"Gespräche in <b>Baku</b>","body":"<p>Erster Absatz.</p><script>alert(1)</script><p>Zweiter &amp; letzter.</p>"}`)
	if it.Article == nil {
		t.Fatalf("rejected: %+v", it.Reject.Reject)
	}
	if it.Article.DE.Title != "Gespräche in Baku" || !reflect.DeepEqual(it.Article.DE.Paragraphs, []string{"Erster Absatz.", "Zweiter & letzter."}) {
		t.Fatalf("%q %q", it.Article.DE.Title, it.Article.DE.Paragraphs)
	}
	t.Run("a paragraphs array with markup", func(t *testing.T) {
		it := readOne(t, intake.Origin{Path: "a.json"}, `{"title":"T","paragraphs":["<p>Eins<br>Zwei</p>","<style>p{}</style>Drei"]}`)
		if !reflect.DeepEqual(it.Article.DE.Paragraphs, []string{"Eins", "Zwei", "Drei"}) {
			t.Fatalf("%q", it.Article.DE.Paragraphs)
		}
	})
	t.Run("text with angle brackets that are not tags stays as written", func(t *testing.T) {
		it := readOne(t, intake.Origin{Path: "a.json"}, `{"title":"T","body":"Wenn a < b und c > d, dann <Name> schreiben."}`)
		if !reflect.DeepEqual(it.Article.DE.Paragraphs, []string{"Wenn a < b und c > d, dann <Name> schreiben."}) {
			t.Fatalf("%q", it.Article.DE.Paragraphs)
		}
	})
}

func TestAnEditedFileKeepsItsID(t *testing.T) {
	o := intake.Origin{Name: "inbox", Path: "/srv/inbox/meldung.txt", File: "meldung.txt"}
	first := readOne(t, o, "Titel\n\nErste Fassung.\n")
	edited := readOne(t, o, "Titel\n\nZweite, korrigierte Fassung.\n")
	if first.Article.ID != edited.Article.ID {
		t.Fatalf("the edit got a new id: %s, %s", first.Article.ID, edited.Article.ID)
	}
	if first.Article.Hash == edited.Article.Hash {
		t.Fatal("the edit has the same content hash")
	}
	t.Run("the same path in another source is another article", func(t *testing.T) {
		other := o
		other.Name = "archiv"
		if readOne(t, other, "Titel\n\nErste Fassung.\n").Article.ID == first.Article.ID {
			t.Fatal("same id")
		}
	})
	t.Run("another folder with the same relative path is the same article", func(t *testing.T) {
		moved := o
		moved.Path = "inbox/meldung.txt"
		if readOne(t, moved, "Titel\n\nErste Fassung.\n").Article.ID != first.Article.ID {
			t.Fatal("the id depends on where the folder is mounted")
		}
	})
	t.Run("a GUID still decides", func(t *testing.T) {
		a := readOne(t, intake.Origin{Name: "inbox", Path: "a.json", File: "a.json"}, `{"guid":"g-1","title":"T","body":"Eins."}`)
		b := readOne(t, intake.Origin{Name: "inbox", Path: "b.json", File: "b.json"}, `{"guid":"g-1","title":"T","body":"Zwei."}`)
		if a.Article.ID != b.Article.ID {
			t.Fatal("one GUID, two ids")
		}
	})
	t.Run("stdin and requests keep content ids", func(t *testing.T) {
		a := readOne(t, intake.Origin{Name: "inbox"}, "Titel\n\nErste Fassung.\n")
		b := readOne(t, intake.Origin{Name: "inbox"}, "Titel\n\nZweite Fassung.\n")
		if a.Article.ID == b.Article.ID {
			t.Fatal("two different texts from stdin share an id")
		}
	})
}

func FuzzParseHTML(f *testing.F) {
	f.Add(savedPage)
	f.Add(`<p>a<script>b</script>c`)
	f.Add(`<svg><p>x</svg><math><mi>y</math>`)
	f.Fuzz(func(t *testing.T, s string) {
		text, err := intake.ParseHTML(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, p := range text.Paragraphs {
			if strings.TrimSpace(p) != p || p == "" {
				t.Fatalf("paragraph %q not trimmed", p)
			}
		}
	})
}
