package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
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

// ErrNotFeed is returned for a document that is not a feed.
var ErrNotFeed = errors.New("intake: not an RSS, Atom or JSON feed")

// ParseFeed reads a feed document (at most limit bytes) into items with
// gofeed: RSS 0.9x, 1.0 and 2.0, Atom 0.3 and 1.0, and JSON Feed, in any
// encoding the XML declaration names (ISO-8859-1, Windows-1252 …). Item
// bodies are HTML: their text is split into paragraphs at block elements
// and <br>, scripts and styles dropped.
func ParseFeed(r io.Reader, source string, limit int64) ([]FeedItem, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("intake: read feed: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("intake: feed larger than %d bytes", limit)
	}
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(data))
	if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
		return nil, ErrNotFeed
	}
	if err != nil {
		return nil, fmt.Errorf("intake: feed: %w", err)
	}
	items := make([]FeedItem, 0, len(feed.Items))
	for _, it := range feed.Items {
		body := it.Content
		if strings.TrimSpace(body) == "" {
			body = it.Description
		}
		link := strings.TrimSpace(it.Link)
		if link == "" && len(it.Links) > 0 {
			link = strings.TrimSpace(it.Links[0])
		}
		items = append(items, FeedItem{GUID: strings.TrimSpace(it.GUID), URL: link,
			Title: htmlText(it.Title), Paragraphs: htmlParagraphs(body), PublishedAt: published(it), Source: source})
	}
	return items, nil
}

// published is an item's date as RFC 3339 when gofeed could read it, else as given.
func published(it *gofeed.Item) string {
	switch {
	case it.PublishedParsed != nil:
		return it.PublishedParsed.UTC().Format(time.RFC3339)
	case it.UpdatedParsed != nil:
		return it.UpdatedParsed.UTC().Format(time.RFC3339)
	case strings.TrimSpace(it.Published) != "":
		return strings.TrimSpace(it.Published)
	}
	return strings.TrimSpace(it.Updated)
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
