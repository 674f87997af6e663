package natstest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Account is the account clients use on these servers (no authentication).
const Account = server.DEFAULT_GLOBAL_ACCOUNT

// readyTimeout bounds every wait for a server to start or a cluster to form.
const readyTimeout = 30 * time.Second

// Option changes the server options before a server starts.
type Option func(*server.Options)

// MaxPayload sets the largest message the server accepts.
func MaxPayload(n int32) Option { return func(o *server.Options) { o.MaxPayload = n } }

// Node is one running (or stopped) server. Shutdown may be called from any
// goroutine; Start and Restart fail the test, so call them from its goroutine.
type Node struct {
	t    testing.TB
	opts server.Options // template; Port is fixed after the first start

	mu  sync.Mutex
	srv *server.Server
}

// Server starts one JetStream server on 127.0.0.1 with a random port and a
// store in t.TempDir(), and shuts it down when the test ends.
func Server(t testing.TB, opts ...Option) *Node {
	t.Helper()
	o := server.Options{
		ServerName: "natstest",
		Host:       "127.0.0.1",
		Port:       -1,
		JetStream:  true,
		StoreDir:   t.TempDir(),
		NoLog:      true,
		NoSigs:     true,
	}
	for _, f := range opts {
		f(&o)
	}
	n := &Node{t: t, opts: o}
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Shutdown)
	return n
}

func (n *Node) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv != nil {
		return nil
	}
	o := n.opts // the server keeps and changes its copy
	o.Routes = append([]*url.URL(nil), n.opts.Routes...)
	s, err := server.NewServer(&o)
	if err != nil {
		return fmt.Errorf("natstest: new server %s: %w", o.ServerName, err)
	}
	go s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		s.Shutdown()
		return fmt.Errorf("natstest: server %s not ready after %s", o.ServerName, readyTimeout)
	}
	if n.opts.Port <= 0 {
		// Restarts come back on the same port, so clients reconnect.
		n.opts.Port = s.Addr().(*net.TCPAddr).Port
	}
	n.srv = s
	return nil
}

// Server returns the running server, nil while it is shut down.
func (n *Node) Server() *server.Server {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.srv
}

// Name is the server name.
func (n *Node) Name() string { return n.opts.ServerName }

// StoreDir is the folder that holds the JetStream store; it survives Restart.
func (n *Node) StoreDir() string { return n.opts.StoreDir }

// URL is the client URL; it stays the same across restarts.
func (n *Node) URL() string { return fmt.Sprintf("nats://%s:%d", n.opts.Host, n.opts.Port) }

// Running reports whether the server is up.
func (n *Node) Running() bool { return n.Server() != nil }

// Shutdown stops the server and waits until it has stopped. The store stays.
func (n *Node) Shutdown() {
	n.mu.Lock()
	s := n.srv
	n.srv = nil
	n.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Restart shuts the server down if it runs, then starts it again on the
// same port with the same store.
func (n *Node) Restart() {
	n.t.Helper()
	n.Shutdown()
	if err := n.start(); err != nil {
		n.t.Fatal(err)
	}
}

// Start starts a server that was shut down; it does nothing if it runs.
func (n *Node) Start() {
	n.t.Helper()
	if err := n.start(); err != nil {
		n.t.Fatal(err)
	}
}

// Conn connects to this server; see [Connect].
func (n *Node) Conn(opts ...nats.Option) *nats.Conn {
	n.t.Helper()
	return Connect(n.t, n.URL(), opts...)
}

// JetStream connects to this server and returns a JetStream context on it.
func (n *Node) JetStream(opts ...jetstream.JetStreamOpt) jetstream.JetStream {
	n.t.Helper()
	return NewJetStream(n.t, n.Conn(), opts...)
}

// Connect dials urls (comma-separated) with endless reconnects every 100ms,
// so a client rides out a restart, and closes the connection when the test ends.
func Connect(t testing.TB, urls string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	all := append([]nats.Option{
		nats.Name(t.Name()),
		nats.Timeout(5 * time.Second),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(100 * time.Millisecond),
	}, opts...)
	nc, err := nats.Connect(urls, all...)
	if err != nil {
		t.Fatalf("natstest: connect %s: %v", urls, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// NewJetStream returns a JetStream context on nc.
func NewJetStream(t testing.TB, nc *nats.Conn, opts ...jetstream.JetStreamOpt) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc, opts...)
	if err != nil {
		t.Fatalf("natstest: jetstream: %v", err)
	}
	return js
}

// Nodes is a JetStream cluster.
type Nodes struct {
	t     testing.TB
	Nodes []*Node
}

// Cluster starts a JetStream cluster of n servers on 127.0.0.1, each with
// its own store, routed to one another, and waits until it has elected a
// meta leader and every node is current. It shuts them down when the test ends.
func Cluster(t testing.TB, n int, opts ...Option) *Nodes {
	t.Helper()
	if n < 1 {
		t.Fatalf("natstest: cluster of %d nodes", n)
	}
	// Routes are configured up front (a clustered JetStream requires it), so
	// the ports are reserved first and fixed for the cluster's lifetime.
	clientPorts, routePorts := freePorts(t, n), freePorts(t, n)
	var routes []*url.URL
	for _, p := range routePorts {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	c := &Nodes{t: t}
	for i := range n {
		o := server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       clientPorts[i],
			JetStream:  true,
			StoreDir:   t.TempDir(),
			NoLog:      true,
			NoSigs:     true,
			Cluster: server.ClusterOpts{
				Name: "natstest",
				Host: "127.0.0.1",
				Port: routePorts[i],
			},
			Routes: routes,
		}
		for _, f := range opts {
			f(&o)
		}
		c.Nodes = append(c.Nodes, &Node{t: t, opts: o})
	}
	t.Cleanup(func() {
		for _, nd := range c.Nodes {
			nd.Shutdown()
		}
	})
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, nd := range c.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = nd.start()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	c.WaitReady()
	return c
}

// freePorts picks n free loopback ports below the usual ephemeral range
// (32768 and up), so no port the kernel hands to another process's
// connection or random listener takes one between the check and the bind.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for try := 0; len(ports) < n; try++ {
		if try == 1000 {
			t.Fatalf("natstest: no %d free ports found", n)
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000)))
		if err != nil {
			continue // taken
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// WaitReady waits until the running nodes have a meta leader that sees each
// of them online, and every running node is current with it.
func (c *Nodes) WaitReady() {
	c.t.Helper()
	Eventually(c.t, readyTimeout, "the JetStream cluster has a meta leader that sees every running node online", func() bool {
		running, ready := 0, false
		for _, nd := range c.Nodes {
			s := nd.Server()
			if s == nil {
				continue
			}
			running++
			if !s.JetStreamIsCurrent() {
				return false
			}
		}
		for _, nd := range c.Nodes {
			if s := nd.Server(); s != nil && s.JetStreamIsLeader() {
				// Streams with replicas need their peers known online, or
				// placement fails with "no suitable peers".
				ready = len(s.JetStreamClusterPeers()) == running
			}
		}
		return ready
	})
}

// URLs lists every node's client URL, comma-separated, for nats.Connect.
func (c *Nodes) URLs() string {
	var us []string
	for _, nd := range c.Nodes {
		us = append(us, nd.URL())
	}
	return strings.Join(us, ",")
}

// Conn connects to the cluster (any node; it fails over to the others).
func (c *Nodes) Conn(opts ...nats.Option) *nats.Conn {
	c.t.Helper()
	return Connect(c.t, c.URLs(), opts...)
}

// JetStream connects to the cluster and returns a JetStream context on it.
func (c *Nodes) JetStream(opts ...jetstream.JetStreamOpt) jetstream.JetStream {
	c.t.Helper()
	return NewJetStream(c.t, c.Conn(), opts...)
}

// StreamLeader returns the running node that leads the stream, or nil when
// none does (yet). A KV bucket's stream is "KV_" + bucket.
func (c *Nodes) StreamLeader(stream string) *Node {
	for _, nd := range c.Nodes {
		if s := nd.Server(); s != nil && s.JetStreamIsStreamLeader(Account, stream) {
			return nd
		}
	}
	return nil
}

// WaitStreamLeader waits until a running node leads the stream and returns it.
func (c *Nodes) WaitStreamLeader(stream string) *Node {
	c.t.Helper()
	var leader *Node
	Eventually(c.t, readyTimeout, "stream "+stream+" has a leader", func() bool {
		leader = c.StreamLeader(stream)
		return leader != nil
	})
	return leader
}

// Eventually polls cond every 20ms until it holds, failing the test with
// what when timeout passes first.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting until %s", timeout, what)
		case <-tick.C:
		}
	}
}
