package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dewire/dewire/pipeline/article"
)

// document is what a JSON item yields.
type document struct {
	text   article.Text
	source article.Source // URL, GUID, Name, PublishedAt as given
}

// decodeJSON reads one JSON object: title, lead, paragraphs (an array of
// strings) or body/text (a string split at blank lines), url, guid, source,
// published_at. Unknown fields are ignored. On failure it returns a
// rejection code and reason, with whatever source fields were read.
func decodeJSON(data []byte) (doc document, code, reason string) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return doc, CodeBadJSON, fmt.Sprintf("JSON syntax error on line %d: %s", lineOf(data, syn.Offset), syn.Error())
		case errors.As(err, &typ):
			return doc, CodeBadJSON, fmt.Sprintf("want a JSON object, got %s", typ.Value)
		}
		return doc, CodeBadJSON, "bad JSON: " + err.Error()
	}
	if fields == nil {
		return doc, CodeBadJSON, "want a JSON object, got null"
	}
	str := func(name string) (string, string) {
		raw, ok := fields[name]
		if !ok || isNull(raw) {
			return "", ""
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			// A GUID is sometimes a number.
			if name == "guid" && json.Valid(raw) && len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
				return string(raw), ""
			}
			return "", fmt.Sprintf("field %q: want a string, got %s", name, kindOf(raw))
		}
		if i, r := controlChar(s); i >= 0 {
			return "", fmt.Sprintf("field %q: control character %U at byte %d", name, r, i)
		}
		return s, ""
	}
	var bad string
	get := func(name string) string {
		s, problem := str(name)
		if problem != "" && bad == "" {
			bad = problem
		}
		return s
	}
	doc.source.URL = strings.TrimSpace(get("url"))
	doc.source.GUID = strings.TrimSpace(get("guid"))
	if name := get("source"); strings.TrimSpace(name) != "" {
		doc.source.Name = SourceName(name)
	}
	doc.text.Title = textLine(get("title"))
	doc.text.Lead = textLine(get("lead"))
	if bad != "" {
		return doc, codeOf(bad), bad
	}
	if raw, ok := fields["published_at"]; ok && !isNull(raw) {
		t, err := parsePublished(raw)
		if err != nil {
			return doc, CodeBadField, fmt.Sprintf("field \"published_at\": %v", err)
		}
		doc.source.PublishedAt = &t
	}
	paras, problem := paragraphsField(fields)
	if problem != "" {
		return doc, codeOf(problem), problem
	}
	doc.text.Paragraphs = paras
	return doc, "", ""
}

// codeOf tells a control-character problem from a wrong type.
func codeOf(problem string) string {
	if strings.Contains(problem, "control character") {
		return CodeControlChars
	}
	return CodeBadField
}

// paragraphsField reads paragraphs, else body, else text.
func paragraphsField(fields map[string]json.RawMessage) ([]string, string) {
	var given []string
	for _, name := range []string{"paragraphs", "body", "text"} {
		if raw, ok := fields[name]; ok && !isNull(raw) {
			given = append(given, name)
		}
	}
	switch len(given) {
	case 0:
		return nil, ""
	case 1:
	default:
		return nil, fmt.Sprintf("fields %s: give only one of paragraphs, body and text", strings.Join(given, ", "))
	}
	name := given[0]
	raw := fields[name]
	if name == "paragraphs" {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Sprintf("field \"paragraphs\": want an array of strings, got %s", kindOf(raw))
		}
		var out []string
		for i, item := range list {
			var s string
			if err := json.Unmarshal(item, &s); err != nil {
				return nil, fmt.Sprintf("field \"paragraphs\"[%d]: want a string, got %s", i, kindOf(item))
			}
			if j, r := controlChar(s); j >= 0 {
				return nil, fmt.Sprintf("field \"paragraphs\"[%d]: control character %U at byte %d", i, r, j)
			}
			if looksLikeHTML(s) {
				out = append(out, htmlParagraphs(s)...)
			} else if p := oneLine(s); p != "" {
				out = append(out, p)
			}
		}
		return out, ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Sprintf("field %q: want a string, got %s", name, kindOf(raw))
	}
	if j, r := controlChar(s); j >= 0 {
		return nil, fmt.Sprintf("field %q: control character %U at byte %d", name, r, j)
	}
	if looksLikeHTML(s) {
		return htmlParagraphs(s), ""
	}
	return paragraphs(splitLines(s)), ""
}

// textLine is a one-line field's text: HTML (a title with <b>, entities)
// through the parser, else the lines joined.
func textLine(s string) string {
	if looksLikeHTML(s) {
		return htmlText(s)
	}
	return oneLine(s)
}

// Date layouts accepted for published_at besides RFC 3339; a layout without
// a zone is read as UTC.
var publishedLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	time.RFC1123Z,
	time.RFC1123,
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700",
	time.RFC822Z,
	time.RFC822,
	"02.01.2006 15:04:05",
	"02.01.2006 15:04",
	"02.01.2006",
	"2.1.2006",
}

// parsePublished reads a date string in one of publishedLayouts, or a number
// of seconds since 1970.
func parsePublished(raw json.RawMessage) (time.Time, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		var secs json.Number
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if dec.Decode(&secs) != nil {
			return time.Time{}, fmt.Errorf("want a date string or Unix seconds, got %s", kindOf(raw))
		}
		f, err := strconv.ParseFloat(string(secs), 64)
		if err != nil || f < 0 || f > 1e11 {
			return time.Time{}, fmt.Errorf("unix seconds %s out of range", secs)
		}
		return time.Unix(int64(f), 0).UTC(), nil
	}
	s = strings.TrimSpace(s)
	for _, layout := range publishedLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (want RFC 3339, e.g. 2021-04-13T10:00:00Z)", truncateString(s, 64))
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// kindOf names the JSON type of raw for error messages.
func kindOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// lineOf returns the 1-based line of byte offset off in data.
func lineOf(data []byte, off int64) int {
	off = max(0, min(off, int64(len(data))))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func truncateString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
