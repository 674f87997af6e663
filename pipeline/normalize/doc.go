// Package normalize composes the removal of invisible characters, the text
// repairs of textfix and the name rewriting of names into one Normalizer per
// language ("de" before translation, "en" after). It returns the repaired
// text and records every change as an article.Edit and every doubt as an
// article.Flag; Batch runs it over offline files and JSON Lines.
//
// The Normalizer is pure: no I/O beyond reading the style and gazetteer it
// is given; Batch reads and writes only the streams it is handed.
package normalize
