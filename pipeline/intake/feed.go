package intake

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html"
)

// FeedItem is one entry of an RSS 2.0 or Atom feed, reduced to the fields
// an article needs.
type FeedItem struct {
	GUID        string   `json:"guid,omitempty"`
	URL         string   `json:"url,omitempty"`
	Title       string   `json:"title"`
	Paragraphs  []string `json:"paragraphs"`
	PublishedAt string   `json:"published_at,omitempty"`
	Source      string   `json:"source,omitempty"`
}

// ErrNotFeed is returned for XML that is neither RSS nor Atom.
var ErrNotFeed = errors.New("intake: not an RSS or Atom feed")

type rssDoc struct {
	XMLName xml.Name `xml:"rss"`
	Channel struct {
		Items []struct {
			Title       string `xml:"title"`
			Link        string `xml:"link"`
			GUID        string `xml:"guid"`
			PubDate     string `xml:"pubDate"`
			Description string `xml:"description"`
			Content     string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
		} `xml:"item"`
	} `xml:"channel"`
}

type atomDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	Entries []struct {
		Title string `xml:"title"`
		ID    string `xml:"id"`
		Links []struct {
			Href string `xml:"href,attr"`
			Rel  string `xml:"rel,attr"`
		} `xml:"link"`
		Published string `xml:"published"`
		Updated   string `xml:"updated"`
		Summary   string `xml:"summary"`
		Content   string `xml:"content"`
	} `xml:"entry"`
}

// ParseFeed reads an RSS 2.0 or Atom document (at most limit bytes) into
// items. Item bodies are HTML: their text is split into paragraphs at block
// elements and <br>.
func ParseFeed(r io.Reader, source string, limit int64) ([]FeedItem, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("intake: read feed: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("intake: feed larger than %d bytes", limit)
	}
	var probe struct{ XMLName xml.Name }
	if err := xml.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotFeed, err)
	}
	var items []FeedItem
	switch {
	case probe.XMLName.Local == "rss":
		var doc rssDoc
		if err := xml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("intake: RSS: %w", err)
		}
		for _, it := range doc.Channel.Items {
			body := it.Content
			if strings.TrimSpace(body) == "" {
				body = it.Description
			}
			items = append(items, FeedItem{GUID: strings.TrimSpace(it.GUID), URL: strings.TrimSpace(it.Link),
				Title: htmlText(it.Title), Paragraphs: htmlParagraphs(body), PublishedAt: strings.TrimSpace(it.PubDate), Source: source})
		}
	case probe.XMLName.Local == "feed" && probe.XMLName.Space == "http://www.w3.org/2005/Atom":
		var doc atomDoc
		if err := xml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("intake: Atom: %w", err)
		}
		for _, e := range doc.Entries {
			link := ""
			for _, l := range e.Links {
				if l.Rel == "" || l.Rel == "alternate" {
					link = l.Href
					break
				}
			}
			body := e.Content
			if strings.TrimSpace(body) == "" {
				body = e.Summary
			}
			published := e.Published
			if published == "" {
				published = e.Updated
			}
			items = append(items, FeedItem{GUID: strings.TrimSpace(e.ID), URL: link, Title: htmlText(e.Title),
				Paragraphs: htmlParagraphs(body), PublishedAt: strings.TrimSpace(published), Source: source})
		}
	default:
		return nil, fmt.Errorf("%w: root element <%s>", ErrNotFeed, probe.XMLName.Local)
	}
	return items, nil
}

// FeedJSONL writes items as JSON Lines that Reader reads as articles, so
// feed items pass the same limits, language gate and rejections as files.
func FeedJSONL(items []FeedItem) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, it := range items {
		enc.Encode(it)
	}
	return b.Bytes()
}

// htmlText is the text of an HTML fragment with white space folded.
func htmlText(s string) string {
	return strings.Join(strings.Fields(strings.Join(htmlParagraphs(s), " ")), " ")
}

// htmlParagraphs extracts the text of an HTML fragment, one paragraph per
// block element or line break.
func htmlParagraphs(s string) []string {
	var paras []string
	var cur strings.Builder
	flush := func() {
		if t := strings.Join(strings.Fields(cur.String()), " "); t != "" {
			paras = append(paras, t)
		}
		cur.Reset()
	}
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0 // inside <script> or <style>
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			flush()
			return paras
		case html.TextToken:
			if skip == 0 {
				cur.Write(z.Text())
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr":
				flush()
			}
		}
	}
}
