// Package bus connects dewire to NATS JetStream: connection options, an
// embedded server for single-process runs and tests, the stream, consumer and
// KV topology (created idempotently by one code path), subject names, message
// ids and headers.
//
// It holds no pipeline logic; workers/stage owns the delivery loop.
package bus
