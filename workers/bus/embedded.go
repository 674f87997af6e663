package bus

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Embedded configures an in-process nats-server with JetStream.
type Embedded struct {
	StoreDir string // JetStream file store; required
	// Listen is host:port for outside clients; empty means no listener
	// (in-process connections only).
	Listen string
	// Durable makes every write fsync (sync_interval: always).
	Durable bool
	// MaxMemory and MaxStore bound JetStream; zero means server defaults.
	MaxMemory, MaxStore int64
}

// Start runs the server and waits until it accepts connections.
func (e Embedded) Start() (*server.Server, error) {
	if e.StoreDir == "" {
		return nil, fmt.Errorf("embedded nats: a store folder is required")
	}
	opts := &server.Options{
		ServerName:         "dewire-embedded",
		JetStream:          true,
		StoreDir:           e.StoreDir,
		JetStreamMaxMemory: e.MaxMemory,
		JetStreamMaxStore:  e.MaxStore,
		NoSigs:             true,
		NoLog:              true,
		MaxPayload:         8 << 20,
	}
	if e.Durable {
		opts.SyncAlways = true
	}
	if e.Listen == "" {
		opts.DontListen = true
	} else {
		host, port, err := splitHostPort(e.Listen)
		if err != nil {
			return nil, fmt.Errorf("embedded nats listen %q: %w", e.Listen, err)
		}
		opts.Host, opts.Port = host, port
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("embedded nats: not ready after 30s")
	}
	return s, nil
}
