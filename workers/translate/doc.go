// Package translate is the worker that runs the pipeline/mt Translator on the
// bus (articles.normalized → articles.translated, consumer translate). It maps
// engine failures onto the stage's delivery rules: quota exhaustion and
// rejected credentials pause the stage, permanent failures dead-letter,
// everything else retries with backoff.
package translate
