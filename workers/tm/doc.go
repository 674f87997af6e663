// Package tm keeps the translation memory in a NATS JetStream key-value
// bucket, so every translate replica shares it and it survives restarts.
//
// It implements mt.Memory and nothing else; keys come from mt.MemoryKey.
package tm
