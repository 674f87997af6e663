// Package intake turns input bytes (plain text, JSON or JSON Lines) into
// article records or rejection records: every input item yields exactly one
// of them, never a panic and never a silent drop.
//
// It reads only from an io.Reader and opens no files, talks to no bus, and
// assigns no revisions; walking folders and publishing belong to the ingest
// worker.
package intake
