// Package ingest is the worker that brings articles into the pipeline: it
// reads files, folders and stdin through pipeline/intake, assigns revisions in
// a JetStream KV bucket, and publishes each article to articles.raw.<source>
// or its rejection record to articles.rejected.<source>.
package ingest
