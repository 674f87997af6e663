// Package normalize composes the text repairs of textfix and the name
// rewriting of names into one Normalizer per language ("de" before
// translation, "en" after). It returns the repaired text and records every
// change as an article.Edit and every doubt as an article.Flag.
//
// It is pure: no I/O beyond reading the style and gazetteer it is given.
package normalize
