// Package deploy holds no code: it is the home of dewire's container image,
// docker compose file, Kubernetes manifests and NATS server configs, and of
// the tests that check them without Docker or a cluster.
//
// The tests parse every file, load the NATS configs with the real server
// parser, and prove the per-role NATS permissions against an embedded server.
package deploy
