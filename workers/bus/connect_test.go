package bus_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/dewire/dewire/internal/natstest"
	"github.com/dewire/dewire/workers/bus"
)

// startServer starts a server changed by opts and returns its client URL.
func startServer(t *testing.T, opts func(*server.Options)) string {
	t.Helper()
	return natstest.Server(t, opts).URL()
}

func connect(t *testing.T, c bus.Conn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, err := bus.Connect(ctx, c, nil)
	if err == nil {
		defer nc.Close()
		return nc.Publish("ping", nil)
	}
	return err
}

func TestConnectWithUserAndPassword(t *testing.T) {
	url := startServer(t, func(o *server.Options) { o.Username, o.Password = "normalize", "s3cret" })
	if err := connect(t, bus.Conn{URL: url, User: "normalize", Password: "s3cret"}); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := connect(t, bus.Conn{URL: url, User: "normalize", Password: "wrong"}); err == nil {
		t.Fatal("a wrong password connected")
	}
}

func TestConnectWithAnNKeySeedFile(t *testing.T) {
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	url := startServer(t, func(o *server.Options) { o.Nkeys = []*server.NkeyUser{{Nkey: pub}} })
	seedFile := filepath.Join(t.TempDir(), "user.nk")
	os.WriteFile(seedFile, seed, 0o600)
	if err := connect(t, bus.Conn{URL: url, NKeyFile: seedFile}); err != nil {
		t.Fatalf("nkey: %v", err)
	}
	if err := connect(t, bus.Conn{URL: url}); err == nil {
		t.Fatal("connected without the nkey")
	}
}

func TestConnectOverMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCA(t)
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ca.Raw)
	srvCert := leaf(t, ca, caKey, "server", x509.ExtKeyUsageServerAuth)
	cliCert := leaf(t, ca, caKey, "worker", x509.ExtKeyUsageClientAuth)
	writePEM(t, filepath.Join(dir, "client.pem"), "CERTIFICATE", cliCert.Certificate[0])
	keyDER, _ := x509.MarshalECPrivateKey(cliCert.PrivateKey.(*ecdsa.PrivateKey))
	writePEM(t, filepath.Join(dir, "client-key.pem"), "EC PRIVATE KEY", keyDER)

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	url := startServer(t, func(o *server.Options) {
		o.TLS, o.TLSVerify, o.TLSTimeout = true, true, 5
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	})
	c := bus.Conn{URL: url, CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "client.pem"), KeyFile: filepath.Join(dir, "client-key.pem")}
	if err := connect(t, c); err != nil {
		t.Fatalf("mutual TLS: %v", err)
	}
	t.Run("without a client certificate the server refuses", func(t *testing.T) {
		if err := connect(t, bus.Conn{URL: url, CAFile: c.CAFile}); err == nil {
			t.Fatal("connected without a client certificate")
		}
	})
	t.Run("a certificate without its key is a clear error", func(t *testing.T) {
		if err := connect(t, bus.Conn{URL: url, CAFile: c.CAFile, CertFile: c.CertFile}); err == nil {
			t.Fatal("accepted a certificate without a key")
		}
	})
}

func TestConnectGivesUpWhenTheContextEnds(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := bus.Connect(ctx, bus.Conn{URL: "nats://" + addr}, nil); err == nil {
		t.Fatal("connected to nothing")
	}
}

func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dewire test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return ca, key
}

func leaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
