package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
)

// Embedded configures an in-process nats-server with JetStream.
type Embedded struct {
	StoreDir string // JetStream file store; required
	// Listen is host:port for outside clients; empty means no listener
	// (in-process connections only). A port without a host (":4222") binds
	// loopback only; give 0.0.0.0:4222 (or an interface's address) to serve
	// other machines.
	Listen string
	// Durable makes every write fsync (sync_interval: always).
	Durable bool
	// MaxMemory and MaxStore bound JetStream; zero means server defaults.
	MaxMemory, MaxStore int64
	// Auth, when set, is required of every client, this process's own
	// in-process connections included (ServerAuth.InProcess makes them).
	Auth ServerAuth
	// TLS, when set, is required on the Listen port.
	TLS ServerTLS
	// Log is told when the server accepts unauthenticated clients on a
	// non-loopback address.
	Log *zap.Logger
}

// ServerAuth is what the embedded server asks of clients: a user name and
// password, or a token; the zero value asks nothing.
type ServerAuth struct {
	User, Password string
	Token          string
}

// IsZero says whether no authentication is required.
func (a ServerAuth) IsZero() bool { return a.User == "" && a.Password == "" && a.Token == "" }

// InProcess is the connection this process opens to srv without a socket,
// carrying the credentials the server requires.
func (a ServerAuth) InProcess(name string, srv *server.Server) Conn {
	return Conn{Name: name, InProcess: srv, User: a.User, Password: a.Password, Token: a.Token}
}

// ServerTLS names the embedded server's certificate and key files (PEM);
// with CAFile, clients must also present a certificate signed by it.
type ServerTLS struct {
	CertFile, KeyFile string
	CAFile            string
}

// ErrEmbeddedConfig marks an embedded server configuration that cannot work.
var ErrEmbeddedConfig = errors.New("embedded nats misconfigured")

// Start runs the server and waits until it accepts connections.
func (e Embedded) Start() (*server.Server, error) {
	if e.StoreDir == "" {
		return nil, fmt.Errorf("%w: a store folder is required", ErrEmbeddedConfig)
	}
	// Two servers on one store would corrupt it: the first holds a lock on
	// the folder until it shuts down.
	if err := os.MkdirAll(e.StoreDir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded nats: store folder: %w", err)
	}
	lock := flock.New(filepath.Join(e.StoreDir, storeLock))
	// A server of this process that just shut down lets go a moment later.
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	locked, err := lock.TryLockContext(ctx, 20*time.Millisecond)
	if errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("embedded nats: lock %s: %w", lock.Path(), err)
	}
	if !locked {
		return nil, fmt.Errorf("%w: %s (another dewire run holds %s)", ErrStoreInUse, e.StoreDir, lock.Path())
	}
	s, err := e.start()
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	go func() {
		s.WaitForShutdown()
		lock.Unlock()
	}()
	return s, nil
}

// storeLock is the file in the store folder the running server locks.
const storeLock = "dewire.lock"

// lockWait is how long Start waits for the store's lock.
const lockWait = 3 * time.Second

// ErrStoreInUse is returned by Embedded.Start when another process (or
// server) runs on the same store folder.
var ErrStoreInUse = errors.New("the JetStream store folder is in use")

func (e Embedded) start() (*server.Server, error) {
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
	if err := e.auth(opts); err != nil {
		return nil, err
	}
	if e.Listen == "" {
		opts.DontListen = true
	} else {
		host, port, err := listenHostPort(e.Listen)
		if err != nil {
			return nil, fmt.Errorf("%w: listen %q: %w", ErrEmbeddedConfig, e.Listen, err)
		}
		opts.Host, opts.Port = host, port
		if err := e.tls(opts); err != nil {
			return nil, err
		}
		if e.Auth.IsZero() && !isLoopback(host) && e.Log != nil {
			e.Log.Warn("the embedded NATS server accepts clients without authentication on a non-loopback address; anyone who reaches it can read and change the pipeline (set a user and password or a token)",
				zap.String("listen", net.JoinHostPort(host, fmt.Sprint(port))))
		}
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

func (e Embedded) auth(opts *server.Options) error {
	a := e.Auth
	switch {
	case a.IsZero():
	case a.Token != "" && (a.User != "" || a.Password != ""):
		return fmt.Errorf("%w: a token or a user and password, not both", ErrEmbeddedConfig)
	case a.Token != "":
		opts.Authorization = a.Token
	case a.User == "" || a.Password == "":
		return fmt.Errorf("%w: a user needs a password, and a password a user", ErrEmbeddedConfig)
	default:
		opts.Username, opts.Password = a.User, a.Password
	}
	return nil
}

func (e Embedded) tls(opts *server.Options) error {
	t := e.TLS
	if t.CertFile == "" && t.KeyFile == "" && t.CAFile == "" {
		return nil
	}
	if t.CertFile == "" || t.KeyFile == "" {
		return fmt.Errorf("%w: TLS needs both a certificate and a key file", ErrEmbeddedConfig)
	}
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: t.CertFile, KeyFile: t.KeyFile, CaFile: t.CAFile, Verify: t.CAFile != ""})
	if err != nil {
		return fmt.Errorf("%w: TLS: %w", ErrEmbeddedConfig, err)
	}
	opts.TLSConfig, opts.TLS, opts.TLSVerify = tc, true, t.CAFile != ""
	opts.TLSTimeout = 2
	return nil
}

// listenHostPort splits addr; an empty host means loopback.
func listenHostPort(addr string) (string, int, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	if host == "" {
		addr = "127.0.0.1" + addr
	}
	return splitHostPort(addr)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
