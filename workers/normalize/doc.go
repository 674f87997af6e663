// Package normalize is the worker that runs pipeline/normalize on the bus:
// German before translation (articles.raw → articles.normalized, consumer
// normalize-de) and English after it (articles.translated → articles.clean,
// consumer normalize-en). One worker kind serves both directions.
package normalize
