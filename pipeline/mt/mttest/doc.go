// Package mttest is the contract every mt.Engine passes: Run drives an
// engine (a client against an httptest server speaking the real wire
// format, or an in-process model) through ordering, limits, blank and
// Unicode segments, glossaries, error classes and cancellation. Each engine
// states in Features which of these it takes part in.
//
// It also offers Engine, an in-process counting engine for tests and
// benchmarks. It is for tests only.
package mttest
