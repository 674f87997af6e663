package intake_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dewire/dewire/pipeline/intake"
)

func TestFeedsInEveryCommonFormatAndEncoding(t *testing.T) {
	body := "Der Präsident sagte am Montag in Baku, die Gespräche würden fortgesetzt."
	for name, doc := range map[string]string{
		"RSS 0.91": `<?xml version="1.0"?><rss version="0.91"><channel><title>A</title><link>https://example.org/</link><description>d</description>
<item><title>Gespräche in Baku</title><link>https://example.org/1</link><description>` + body + `</description></item></channel></rss>`,
		"RSS 1.0 (RDF)": `<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="https://example.org/"><title>A</title><link>https://example.org/</link><description>d</description></channel>
<item rdf:about="https://example.org/1"><title>Gespräche in Baku</title><link>https://example.org/1</link><description>` + body + `</description></item></rdf:RDF>`,
		"Atom 1.0": `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<entry><title>Gespräche in Baku</title><id>https://example.org/1</id><link href="https://example.org/1"/><updated>2021-04-13T09:30:00Z</updated>
<summary>` + body + `</summary></entry></feed>`,
		"RSS 2.0 in ISO-8859-1": latin1(`<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>A</title>
<item><title>Gespräche in Baku</title><link>https://example.org/1</link><description>` + body + `</description></item></channel></rss>`),
	} {
		t.Run(name, func(t *testing.T) {
			items, err := intake.ParseFeed(strings.NewReader(doc), "agentur", 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 {
				t.Fatalf("%d items", len(items))
			}
			it := items[0]
			if it.Title != "Gespräche in Baku" || len(it.Paragraphs) != 1 || it.Paragraphs[0] != body || it.URL != "https://example.org/1" {
				t.Fatalf("%+v", it)
			}
		})
	}
}

func TestAnHTMLPageIsNotAFeed(t *testing.T) {
	_, err := intake.ParseFeed(strings.NewReader("<html><body>Fehler 404</body></html>"), "", 1<<20)
	if !errors.Is(err, intake.ErrNotFeed) {
		t.Fatalf("%v, want ErrNotFeed", err)
	}
}

// latin1 encodes s (Latin-1 characters only) as ISO-8859-1.
func latin1(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			panic("not Latin-1")
		}
		b = append(b, byte(r))
	}
	return string(b)
}
