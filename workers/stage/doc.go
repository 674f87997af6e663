// Package stage is the one consume → process → publish → ack loop every
// dewire worker runs: it pulls from a durable JetStream consumer only as much
// as it can work on, publishes the handler's output with deterministic message
// ids and waits for the PubAck before it double-acks the input, backs off with
// NakWithDelay, dead-letters with a reason, holds messages with InProgress
// heartbeats while a handler runs or while the stage is paused, and drains on
// shutdown.
//
// It knows nothing about articles beyond the headers it copies to dead letters.
package stage
