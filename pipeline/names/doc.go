// Package names finds people, places and organizations of the gazetteer in
// German and English news text and rewrites every mention to the canonical
// press form of the text's language, matching spellings by a language-neutral
// transliteration key (Alijew, Aliyev, Əliyev and Aliyevs reach one entity).
//
// It must never change who a person is or which place is meant: a first name
// is corrected only without sign of a relative or namesake, a woman's surname
// keeps its feminine form, and names inside addresses, handles, titles of
// works, outlet names and glosses stay as written. It must not rewrite words
// that are not names, nor text that talks about a name ("die die Armenier
// Schuschi nennen"); every edit records its evidence and confidence, and what
// is below names.MinConfidence is a flag. The gazetteer is embedded and
// immutable, and a desk extends it with its own file rather than by mutation.
package names
