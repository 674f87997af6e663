// Package sink is the worker that writes each clean record exactly once:
// JSONL files per day with an (id, rev) index (and TMX and PostgreSQL when
// configured). It is the final idempotency backstop of the pipeline: a record
// it has written before is acknowledged without being written again.
package sink
