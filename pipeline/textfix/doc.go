// Package textfix repairs the typography of German and English news text:
// quotation marks (paired by position and re-rendered in a desk's style),
// punctuation placement and spacing, doubled punctuation, page debris (credits,
// teasers, advertising markers, share bars, page numbers) standing alone or
// glued to a final sentence, and UTF-8 text that was decoded as Windows-1252.
//
// It never rewrites words, names or numbers (debris removal deletes, keeping
// the text in the edit), and where a repair is uncertain it leaves the text
// alone and raises a flag for a human instead. Every pass is linear in the
// paragraph's length.
package textfix
