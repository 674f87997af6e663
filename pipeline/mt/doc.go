// Package mt translates articles: the Engine contract every translation
// backend implements, error classes the runtime uses to retry, pause or give
// up, and the Translator that segments an article, consults the translation
// memory and sends only the misses to the engine.
//
// It must not import NATS or anything under workers/.
package mt
