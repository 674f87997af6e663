// Package names finds people, places and organizations of the gazetteer in
// German and English news text and rewrites every mention to the canonical
// press form of the text's language, matching spellings by a language-neutral
// transliteration key (Alijew, Aliyev, Əliyev and Aliyevs reach one entity).
//
// It must not rewrite words that are not names, nor text that talks about a
// name ("die die Armenier Schuschi nennen"); the gazetteer is embedded and
// immutable, and a desk extends it with its own file rather than by mutation.
package names
