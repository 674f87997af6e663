package bus_test

import (
	"bufio"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/dewire/dewire/workers/bus"
)

func startEmbedded(t *testing.T, e bus.Embedded) *server.Server {
	t.Helper()
	e.StoreDir = t.TempDir()
	s, err := e.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

func natsURL(s *server.Server) string { return "nats://" + s.Addr().String() }

func TestEmbeddedServerWithAPasswordRefusesOtherClients(t *testing.T) {
	auth := bus.ServerAuth{User: "desk", Password: "s3cret"}
	s := startEmbedded(t, bus.Embedded{Listen: "127.0.0.1:-1", Auth: auth})
	for _, c := range []struct {
		name string
		conn bus.Conn
	}{
		{"a client without credentials", bus.Conn{URL: natsURL(s)}},
		{"a wrong password", bus.Conn{URL: natsURL(s), User: "desk", Password: "guess"}},
		{"a token instead of the password", bus.Conn{URL: natsURL(s), Token: "s3cret"}},
	} {
		t.Run(c.name+" is refused", func(t *testing.T) {
			if err := connect(t, c.conn); err == nil {
				t.Fatal("connected")
			}
		})
	}
	if err := connect(t, bus.Conn{URL: natsURL(s), User: "desk", Password: "s3cret"}); err != nil {
		t.Fatalf("the right password: %v", err)
	}
	if err := connect(t, auth.InProcess("run", s)); err != nil {
		t.Fatalf("in-process with the credentials: %v", err)
	}
	if err := connect(t, bus.Conn{InProcess: s}); err == nil {
		t.Fatal("an in-process client without credentials connected")
	}
}

func TestEmbeddedServerWithATokenRefusesAWrongOne(t *testing.T) {
	s := startEmbedded(t, bus.Embedded{Listen: "127.0.0.1:-1", Auth: bus.ServerAuth{Token: "t0ken"}})
	if err := connect(t, bus.Conn{URL: natsURL(s), Token: "other"}); err == nil {
		t.Fatal("a wrong token connected")
	}
	if err := connect(t, bus.Conn{URL: natsURL(s)}); err == nil {
		t.Fatal("no token connected")
	}
	if err := connect(t, bus.Conn{URL: natsURL(s), Token: "t0ken"}); err != nil {
		t.Fatalf("the right token: %v", err)
	}
}

func TestEmbeddedServerWithTLSRefusesPlainClients(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCA(t)
	srvCert := leaf(t, ca, caKey, "localhost", x509.ExtKeyUsageServerAuth)
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ca.Raw)
	writePEM(t, filepath.Join(dir, "server.pem"), "CERTIFICATE", srvCert.Certificate[0])
	keyDER, err := x509.MarshalPKCS8PrivateKey(srvCert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "server-key.pem"), "PRIVATE KEY", keyDER)
	s := startEmbedded(t, bus.Embedded{Listen: "127.0.0.1:-1",
		TLS: bus.ServerTLS{CertFile: filepath.Join(dir, "server.pem"), KeyFile: filepath.Join(dir, "server-key.pem")}})
	if !plainClientRefused(t, s.Addr().String()) {
		t.Fatal("a plain client was answered by the TLS listener")
	}
	if err := connect(t, bus.Conn{URL: natsURL(s)}); err == nil {
		t.Fatal("a client that does not trust the certificate connected")
	}
	if err := connect(t, bus.Conn{URL: natsURL(s), CAFile: filepath.Join(dir, "ca.pem")}); err != nil {
		t.Fatalf("a TLS client trusting the CA: %v", err)
	}
	if err := connect(t, bus.Conn{InProcess: s}); err != nil {
		t.Fatalf("in-process beside TLS: %v", err)
	}
}

func TestEmbeddedServerBindsLoopbackForAPortWithoutHost(t *testing.T) {
	s := startEmbedded(t, bus.Embedded{Listen: ":-1"})
	host, _, _ := net.SplitHostPort(s.Addr().String())
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		t.Fatalf("listening on %s, want loopback", s.Addr())
	}
}

func TestEmbeddedServerWarnsWhenOpenBeyondLoopback(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	startEmbedded(t, bus.Embedded{Listen: "0.0.0.0:-1", Log: zap.New(core)})
	if logs.FilterMessageSnippet("without authentication").Len() != 1 {
		t.Fatalf("no warning about an open listener: %v", logs.All())
	}
	core, logs = observer.New(zap.WarnLevel)
	startEmbedded(t, bus.Embedded{Listen: "0.0.0.0:-1", Log: zap.New(core), Auth: bus.ServerAuth{Token: "t"}})
	startEmbedded(t, bus.Embedded{Listen: "127.0.0.1:-1", Log: zap.New(core)})
	if logs.Len() != 0 {
		t.Fatalf("warned with a token or on loopback: %v", logs.All())
	}
}

func TestEmbeddedServerRefusesHalfConfiguredAccess(t *testing.T) {
	for name, e := range map[string]bus.Embedded{
		"a user without a password":       {Auth: bus.ServerAuth{User: "desk"}},
		"a token and a password together": {Auth: bus.ServerAuth{User: "desk", Password: "p", Token: "t"}},
		"a certificate without a key":     {Listen: "127.0.0.1:-1", TLS: bus.ServerTLS{CertFile: "server.pem"}},
		"a certificate file that is missing": {Listen: "127.0.0.1:-1",
			TLS: bus.ServerTLS{CertFile: filepath.Join(os.TempDir(), "absent.pem"), KeyFile: filepath.Join(os.TempDir(), "absent.key")}},
	} {
		t.Run(name, func(t *testing.T) {
			e.StoreDir = t.TempDir()
			s, err := e.Start()
			if err == nil {
				s.Shutdown()
				t.Fatal("started")
			}
			if !errors.Is(err, bus.ErrEmbeddedConfig) {
				t.Fatalf("error %v is not ErrEmbeddedConfig", err)
			}
		})
	}
}

// plainClientRefused speaks the NATS protocol without TLS to addr and says
// whether the server refused it (an INFO demanding TLS, then no PONG).
func plainClientRefused(t *testing.T, addr string) bool {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	info, err := r.ReadString('\n')
	if err != nil || !strings.Contains(info, `"tls_required":true`) {
		t.Fatalf("INFO %q, %v: want tls_required", info, err)
	}
	if _, err := conn.Write([]byte("CONNECT {\"verbose\":false}\r\nPING\r\n")); err != nil {
		return true
	}
	line, err := r.ReadString('\n')
	return err != nil || !strings.HasPrefix(line, "PONG")
}

// TestTwoEmbeddedServersNeverShareAStore starts a second server on the
// store of a running one, as a second `dewire run` on the same --data
// would: it must be refused, and the folder is free again once the first
// has shut down.
func TestTwoEmbeddedServersNeverShareAStore(t *testing.T) {
	dir := t.TempDir()
	first, err := bus.Embedded{StoreDir: dir}.Start()
	if err != nil {
		t.Fatal(err)
	}
	second, err := bus.Embedded{StoreDir: dir}.Start()
	if !errors.Is(err, bus.ErrStoreInUse) {
		if second != nil {
			second.Shutdown()
		}
		first.Shutdown()
		t.Fatalf("a second server on a store in use: %v, want bus.ErrStoreInUse", err)
	}
	first.Shutdown()
	again, err := bus.Embedded{StoreDir: dir}.Start()
	if err != nil {
		t.Fatalf("the store after the first server shut down: %v", err)
	}
	again.Shutdown()
}
