package intake

import (
	"strings"

	"github.com/dewire/dewire/pipeline/article"
)

// ParsePlain reads the plain layout: the first non-blank line is the title,
// and the rest is paragraphs separated by blank lines. CRLF and CR line
// breaks are accepted. The lines of one paragraph are joined with a single
// space, because wire copy arrives hard-wrapped and a line break inside a
// paragraph carries no meaning; every line is trimmed of surrounding space.
// The layout has no lead: a lead-like first paragraph stays a paragraph.
func ParsePlain(s string) article.Text {
	s = strings.TrimPrefix(s, "\uFEFF")
	lines := splitLines(s)
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	var t article.Text
	if len(lines) == 0 {
		return t
	}
	t.Title = strings.TrimSpace(lines[0])
	t.Paragraphs = paragraphs(lines[1:])
	return t
}

// Plain writes t in the plain layout ParsePlain reads: title line,
// blank line, then the lead (if any) and paragraphs separated by blank lines,
// ending in a line break. For a text ParsePlain produced,
// ParsePlain(FormatPlain(t)) equals t, so paragraph n of the output is
// paragraph n of the input.
func FormatPlain(t *article.Text) string {
	var b strings.Builder
	b.WriteString(t.Title)
	b.WriteByte('\n')
	if t.Lead != "" {
		b.WriteByte('\n')
		b.WriteString(t.Lead)
		b.WriteByte('\n')
	}
	for _, p := range t.Paragraphs {
		b.WriteByte('\n')
		b.WriteString(p)
		b.WriteByte('\n')
	}
	return b.String()
}

// splitLines splits on LF, CRLF and lone CR.
func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n")
}

// paragraphs groups lines into paragraphs at blank lines.
func paragraphs(lines []string) []string {
	var out []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, " "))
			cur = cur[:0]
		}
	}
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			flush()
			continue
		}
		cur = append(cur, l)
	}
	flush()
	return out
}

// oneLine joins the lines of s with spaces, as a paragraph's lines are.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return strings.TrimSpace(s)
	}
	var parts []string
	for _, l := range splitLines(s) {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}
