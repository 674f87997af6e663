// Package article defines the dewire.article/v1 record that travels on every
// subject and lands in every sink: its identity (id, rev), the German and
// English text, the audit trail of edits and flags, and the stage trace.
//
// It is plain data with helpers; it knows nothing of NATS or of any stage.
package article
