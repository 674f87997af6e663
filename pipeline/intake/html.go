package intake

import (
	"io"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/dewire/dewire/pipeline/article"
)

// ParseHTML reads an HTML page (a saved .html file) into an article with the
// HTML5 parser: the title is the first <h1>, else <title>; paragraphs are the
// text of the block elements in <body>. Scripts, styles, templates,
// embedded SVG and MathML and the document head never reach the text; tags
// are dropped and entities decoded.
func ParseHTML(r io.Reader) (article.Text, error) {
	doc, err := html.Parse(r)
	if err != nil {
		return article.Text{}, err
	}
	var t article.Text
	var h1, title *html.Node
	walk(doc, func(n *html.Node) bool {
		switch n.DataAtom {
		case atom.Title:
			if title == nil {
				title = n
			}
		case atom.H1:
			if h1 == nil {
				h1 = n
			}
		}
		return n.DataAtom == atom.Head || !skipped(n)
	})
	switch {
	case h1 != nil:
		t.Title = oneLine(textOf(h1))
	case title != nil:
		t.Title = oneLine(textOf(title))
	}
	body := find(doc, atom.Body)
	if body == nil {
		body = doc
	}
	b := blocks{skip: h1}
	b.collect(body)
	t.Paragraphs = b.flush()
	return t, nil
}

// htmlParagraphs extracts the text of an HTML fragment (a feed item's body,
// a JSON field), one paragraph per block element or line break.
func htmlParagraphs(s string) []string {
	nodes, err := html.ParseFragment(strings.NewReader(s), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return paragraphs(splitLines(s))
	}
	var b blocks
	for _, n := range nodes {
		b.collect(n)
	}
	return b.flush()
}

// htmlText is the text of an HTML fragment with white space folded.
func htmlText(s string) string {
	return strings.Join(strings.Fields(strings.Join(htmlParagraphs(s), " ")), " ")
}

// looksLikeHTML says whether s holds at least one common HTML element (<p>,
// <br>, <b> …), so "a < b" and "<Name>" stay text.
func looksLikeHTML(s string) bool {
	if !strings.Contains(s, "<") {
		return false
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			if htmlElements[atom.Lookup(name)] {
				return true
			}
		}
	}
}

// htmlElements are the elements whose presence makes a text HTML.
var htmlElements = map[atom.Atom]bool{
	atom.P: true, atom.Br: true, atom.Div: true, atom.Span: true, atom.B: true, atom.I: true, atom.Em: true,
	atom.Strong: true, atom.A: true, atom.Ul: true, atom.Ol: true, atom.Li: true, atom.H1: true, atom.H2: true,
	atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.Blockquote: true, atom.Script: true,
	atom.Style: true, atom.Table: true, atom.Tr: true, atom.Td: true, atom.Th: true, atom.Img: true,
	atom.Figure: true, atom.Figcaption: true, atom.Section: true, atom.Article: true, atom.Header: true,
	atom.Footer: true, atom.Nav: true, atom.Aside: true, atom.Main: true, atom.Html: true, atom.Body: true,
	atom.Head: true, atom.Iframe: true, atom.Noscript: true, atom.Template: true, atom.Svg: true,
	atom.Sub: true, atom.Sup: true, atom.Small: true, atom.U: true, atom.S: true, atom.Q: true, atom.Cite: true,
	atom.Abbr: true, atom.Code: true, atom.Pre: true, atom.Hr: true, atom.Dl: true, atom.Dt: true,
	atom.Dd: true, atom.Mark: true, atom.Time: true, atom.Font: true,
}

// skipped are elements whose content is never article text.
func skipped(n *html.Node) bool {
	if n.Type == html.CommentNode || n.Type == html.DoctypeNode {
		return true
	}
	if n.Type != html.ElementNode {
		return false
	}
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg, atom.Math,
		atom.Iframe, atom.Object, atom.Embed, atom.Canvas, atom.Head, atom.Select, atom.Button:
		return true
	}
	return n.Namespace == "svg" || n.Namespace == "math"
}

// block elements end the paragraph before and after them.
func block(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Br, atom.Li, atom.Ul, atom.Ol, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Blockquote, atom.Tr, atom.Td, atom.Th, atom.Table, atom.Section, atom.Article, atom.Header, atom.Footer,
		atom.Aside, atom.Nav, atom.Figure, atom.Figcaption, atom.Pre, atom.Hr, atom.Dd, atom.Dt, atom.Main, atom.Address:
		return true
	}
	return false
}

type blocks struct {
	skip  *html.Node // already used as the title
	cur   strings.Builder
	paras []string
}

func (b *blocks) collect(n *html.Node) {
	if n == b.skip || skipped(n) {
		return
	}
	switch n.Type {
	case html.TextNode:
		b.cur.WriteString(n.Data)
		return
	case html.ElementNode:
		if block(n.DataAtom) {
			b.end()
			defer b.end()
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.collect(c)
	}
}

func (b *blocks) end() {
	if t := strings.Join(strings.Fields(b.cur.String()), " "); t != "" {
		b.paras = append(b.paras, t)
	}
	b.cur.Reset()
}

func (b *blocks) flush() []string {
	b.end()
	return b.paras
}

// walk visits n and its descendants, not descending where visit says false.
func walk(n *html.Node, visit func(*html.Node) bool) {
	if !visit(n) {
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, visit)
	}
}

func find(n *html.Node, a atom.Atom) *html.Node {
	var found *html.Node
	walk(n, func(n *html.Node) bool {
		if found != nil {
			return false
		}
		if n.Type == html.ElementNode && n.DataAtom == a {
			found = n
			return false
		}
		return true
	})
	return found
}

func textOf(n *html.Node) string {
	var b strings.Builder
	walk(n, func(n *html.Node) bool {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		return !skipped(n)
	})
	return b.String()
}
