// Package sinktest is the contract every sink writer runs (JSONL, TMX,
// PostgreSQL and the composed Sink): each (id, rev) is stored exactly once,
// with its content, however often it arrives, whatever crash came between
// two steps of a write, and a record whose (id, rev) is taken by other
// content is kept under the next free revision.
//
// It drives real writers on real storage; it never mocks one.
package sinktest
