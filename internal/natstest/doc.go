// Package natstest starts real nats-servers with JetStream for tests: one
// server on a loopback port, or a cluster of servers routed to one another.
// Every server keeps its store in a test temporary folder, can be shut down
// and started again on the same port and store (an outage), and is shut
// down when the test ends.
//
// It is for tests only: nothing but _test.go files imports it, and it never
// mocks a server.
package natstest
