// Package chaos tries to break dewire's delivery promises from outside: it
// runs nats-server and every worker kind as separate OS processes, feeds
// German articles through HTTP and a watched folder while it kills and
// restarts workers and servers, then audits the sink and the streams for
// lost and duplicated records. It uses only the dewire binary's command line
// and what an operator can read (files, streams, KV); it never reaches into
// a worker's memory.
package chaos
