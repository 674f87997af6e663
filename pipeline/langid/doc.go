// Package langid is the language gate: it tells German articles from the
// other languages that reach a German desk by mistake, using lingua-go
// restricted to a small set of languages in its low-memory mode.
//
// It only classifies text; it never edits an article or decides what happens
// to a rejected one, and it holds no package-level state.
package langid
