// Package sink is the worker that writes each clean record exactly once:
// JSONL files per day with an (id, rev, content hash) index, and TMX and
// PostgreSQL when configured. Every writer is idempotent on (id, rev) by
// itself, across crashes, and keeps other content that arrives under a
// stored (id, rev) under the next free revision instead of dropping it.
// It never rewrites a record it has stored.
package sink
