// Package mttest is the contract every mt.Engine passes: Run drives an
// engine (usually a client against an httptest server speaking the real
// wire format) through ordering, batching, empty and Unicode segments,
// glossaries, error classes and cancellation.
//
// It also offers Engine, an in-process counting engine for tests and
// benchmarks. It is for tests only.
package mttest
