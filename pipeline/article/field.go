package article

import (
	"fmt"
	"strconv"
	"strings"
)

// Field is one editable piece of text: "de.title", "de.lead", "de.paragraphs[3]".
type Field struct {
	Name string
	Text *string
}

// Fields lists the text fields of t under the prefix ("de" or "en") in reading order.
// The lead is listed only when present.
func (t *Text) Fields(prefix string) []Field {
	if t == nil {
		return nil
	}
	out := make([]Field, 0, len(t.Paragraphs)+2)
	out = append(out, Field{Name: prefix + ".title", Text: &t.Title})
	if t.Lead != "" {
		out = append(out, Field{Name: prefix + ".lead", Text: &t.Lead})
	}
	for i := range t.Paragraphs {
		out = append(out, Field{Name: ParagraphField(prefix, i), Text: &t.Paragraphs[i]})
	}
	return out
}

// ParagraphField names paragraph i under prefix.
func ParagraphField(prefix string, i int) string {
	return prefix + ".paragraphs[" + strconv.Itoa(i) + "]"
}

// ParseField splits a field name into its language, part ("title", "lead",
// "paragraphs") and paragraph index (-1 when not a paragraph).
func ParseField(name string) (lang, part string, para int, err error) {
	lang, rest, ok := strings.Cut(name, ".")
	if !ok || (lang != "de" && lang != "en") {
		return "", "", -1, fmt.Errorf("field %q: want de.* or en.*", name)
	}
	switch {
	case rest == "title" || rest == "lead":
		return lang, rest, -1, nil
	case strings.HasPrefix(rest, "paragraphs[") && strings.HasSuffix(rest, "]"):
		n, err := strconv.Atoi(rest[len("paragraphs[") : len(rest)-1])
		if err != nil || n < 0 {
			return "", "", -1, fmt.Errorf("field %q: bad paragraph index", name)
		}
		return lang, "paragraphs", n, nil
	}
	return "", "", -1, fmt.Errorf("field %q: unknown part %q", name, rest)
}

// Len is the total number of bytes of text in t.
func (t *Text) Len() int {
	if t == nil {
		return 0
	}
	n := len(t.Title) + len(t.Lead)
	for _, p := range t.Paragraphs {
		n += len(p)
	}
	return n
}
