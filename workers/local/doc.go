// Package local runs the whole pipeline in one process on an embedded NATS
// server: ingest, both normalizers, translation, the sink and the DLQ mover,
// with the same stage loop the containerised workers use. It tracks every
// article it ingests until it reaches the sink, the rejects or the DLQ, which
// is what `dewire run` waits for.
package local
