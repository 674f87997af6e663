// Package record encodes clean articles for the sink. TMX 1.4b: one <tu>
// per sentence pair, either streamed to an io.Writer (TMXEncoder) or
// appended to a per-day file that is valid TMX after every append and is
// repaired on open after a crash (TMXFile).
//
// It writes bytes only; choosing files per day and deduplicating (id, rev)
// is the sink's job.
package record
