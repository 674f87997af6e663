package intake_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dewire/dewire/pipeline/intake"
)

const rss = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Agentur</title>
<item>
  <title>Alijew kündigt Gespräche an</title>
  <link>https://example.org/a/1</link>
  <guid isPermaLink="false">agentur-1</guid>
  <pubDate>Tue, 13 Apr 2021 09:30:00 +0200</pubDate>
  <description>Kurzfassung</description>
  <content:encoded><![CDATA[<p>Der Präsident <b>Ilham Ali</b>jew sagte am Montag in Baku, die Gespräche würden fortgesetzt.</p><p>Nach Angaben des Ministeriums<br/>wurden mehrere Dörfer evakuiert.</p><script>track()</script>]]></content:encoded>
</item>
<item>
  <title>Zweite Meldung</title>
  <link>https://example.org/a/2</link>
  <description>&lt;p&gt;Die Opposition kritisierte die Entscheidung und forderte eine unabhängige Untersuchung.&lt;/p&gt;</description>
</item>
</channel></rss>`

const atom = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Agentur</title>
  <entry>
    <title>Peskow: Keine neuen Verhandlungen</title>
    <id>urn:agentur:3</id>
    <link rel="alternate" href="https://example.org/a/3"/>
    <updated>2021-04-13T09:30:00Z</updated>
    <content type="html">&lt;p&gt;Der Sprecher des Kremls sagte, Moskau sehe keine Grundlage für Gespräche.&lt;/p&gt;</content>
  </entry>
</feed>`

func TestParseFeed(t *testing.T) {
	t.Run("RSS items keep guid, link, date and paragraphs of their HTML body", func(t *testing.T) {
		items, err := intake.ParseFeed(strings.NewReader(rss), "agentur", 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 2 {
			t.Fatalf("%d items", len(items))
		}
		it := items[0]
		if it.GUID != "agentur-1" || it.URL != "https://example.org/a/1" || it.PublishedAt == "" {
			t.Fatalf("%+v", it)
		}
		want := []string{"Der Präsident Ilham Alijew sagte am Montag in Baku, die Gespräche würden fortgesetzt.", "Nach Angaben des Ministeriums", "wurden mehrere Dörfer evakuiert."}
		if strings.Join(it.Paragraphs, "|") != strings.Join(want, "|") {
			t.Fatalf("paragraphs %q", it.Paragraphs)
		}
		if items[1].Paragraphs[0] != "Die Opposition kritisierte die Entscheidung und forderte eine unabhängige Untersuchung." {
			t.Fatalf("escaped HTML description: %q", items[1].Paragraphs)
		}
	})
	t.Run("Atom entries use their alternate link and content", func(t *testing.T) {
		items, err := intake.ParseFeed(strings.NewReader(atom), "agentur", 1<<20)
		if err != nil || len(items) != 1 || items[0].GUID != "urn:agentur:3" || items[0].URL != "https://example.org/a/3" || len(items[0].Paragraphs) != 1 {
			t.Fatalf("%+v %v", items, err)
		}
	})
	t.Run("items become articles through the same reader as files", func(t *testing.T) {
		items, _ := intake.ParseFeed(strings.NewReader(rss), "agentur", 1<<20)
		var got []intake.Item
		err := (&intake.Reader{}).Read(context.Background(), strings.NewReader(string(intake.FeedJSONL(items))), intake.Origin{Name: "agentur", Format: intake.JSONL}, func(it intake.Item) error {
			got = append(got, it)
			return nil
		})
		if err != nil || len(got) != 2 || got[0].Article == nil || got[0].Article.Source.GUID != "agentur-1" || got[0].Article.Source.PublishedAt == nil {
			t.Fatalf("%+v %v", got, err)
		}
	})
	for _, tc := range []struct{ name, body string }{
		{"HTML is not a feed", "<html><body>nope</body></html>"},
		{"broken XML is not a feed", "<rss><channel>"},
		{"plain text is not a feed", "Titel\n\nText"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := intake.ParseFeed(strings.NewReader(tc.body), "x", 1<<20); err == nil {
				t.Fatal("accepted")
			} else if tc.name != "broken XML is not a feed" && !errors.Is(err, intake.ErrNotFeed) {
				t.Fatalf("error %v", err)
			}
		})
	}
	t.Run("an oversized feed is refused", func(t *testing.T) {
		if _, err := intake.ParseFeed(strings.NewReader(rss), "x", 100); err == nil {
			t.Fatal("accepted")
		}
	})
}

func FuzzParseFeed(f *testing.F) {
	f.Add(rss)
	f.Add(atom)
	f.Fuzz(func(t *testing.T, s string) {
		items, err := intake.ParseFeed(strings.NewReader(s), "x", 1<<20)
		if err == nil {
			_ = intake.FeedJSONL(items)
		}
	})
}
