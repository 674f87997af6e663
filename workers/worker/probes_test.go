package worker_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/dewire/dewire/workers/worker"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveProbes serves probes whose Mux has /articles answering "accepted"
// after reading the body, and returns the main address.
func serveProbes(t *testing.T, o worker.HTTPOptions) (string, *worker.Probes) {
	t.Helper()
	p := worker.NewProbes()
	p.Mux.HandleFunc("/articles", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				http.Error(w, "body read timed out", http.StatusRequestTimeout)
				return
			}
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, "accepted")
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	addr := freeAddr(t)
	if err := p.ServeWith(ctx, addr, o, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	return addr, p
}

var client = &http.Client{Timeout: 10 * time.Second}

func post(t *testing.T, url string, set func(*http.Request)) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"title":"x"}`))
	if set != nil {
		set(req)
	}
	var resp *http.Response
	var err error
	for i := 0; i < 50; i++ { // the listener opens at once, the server goroutine a moment later
		if resp, err = client.Do(req); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
		req, _ = http.NewRequest(http.MethodPost, url, strings.NewReader(`{"title":"x"}`))
		if set != nil {
			set(req)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPostArticlesNeedsTheTokenOrThePassword(t *testing.T) {
	addr, _ := serveProbes(t, worker.HTTPOptions{Auth: worker.HTTPAuth{Token: "t0ken", User: "desk", Password: "s3cret"}})
	url := "http://" + addr + "/articles"
	for _, c := range []struct {
		name string
		set  func(*http.Request)
		want int
	}{
		{"no credentials are refused", nil, 401},
		{"a wrong token is refused", func(r *http.Request) { r.Header.Set("Authorization", "Bearer guess") }, 401},
		{"the token as a basic password is refused", func(r *http.Request) { r.SetBasicAuth("desk", "t0ken") }, 401},
		{"a wrong user is refused", func(r *http.Request) { r.SetBasicAuth("other", "s3cret") }, 401},
		{"the token is accepted", func(r *http.Request) { r.Header.Set("Authorization", "Bearer t0ken") }, 200},
		{"the password is accepted", func(r *http.Request) { r.SetBasicAuth("desk", "s3cret") }, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			if code, body := post(t, url, c.set); code != c.want {
				t.Fatalf("%d %s, want %d", code, body, c.want)
			}
		})
	}
	t.Run("the probes stay open", func(t *testing.T) {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("/healthz %d", resp.StatusCode)
		}
	})
}

func TestPostArticlesIsLockedWithoutCredentialsUnlessOpenedExplicitly(t *testing.T) {
	addr, _ := serveProbes(t, worker.HTTPOptions{})
	if code, body := post(t, "http://"+addr+"/articles", nil); code != 401 || !strings.Contains(body, "locked") {
		t.Fatalf("zero options: %d %s", code, body)
	}
	addr, _ = serveProbes(t, worker.HTTPOptions{Auth: worker.HTTPAuth{NoAuth: true}})
	if code, body := post(t, "http://"+addr+"/articles", nil); code != 200 {
		t.Fatalf("NoAuth: %d %s", code, body)
	}
}

func TestPlainHTTPToTheTLSListenerIsRefused(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	addr, _ := serveProbes(t, worker.HTTPOptions{CertFile: certFile, KeyFile: keyFile, Auth: worker.HTTPAuth{Token: "t0ken"}})
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer t0ken") }
	if code, body := post(t, "http://"+addr+"/articles", bearer); code != http.StatusBadRequest {
		t.Fatalf("plain HTTP: %d %s", code, body)
	}
	tc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest(http.MethodPost, "https://"+addr+"/articles", strings.NewReader("{}"))
	bearer(req)
	resp, err := tc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("HTTPS with the token: %d", resp.StatusCode)
	}
}

func TestMetricsCanBeServedOnTheirOwnAddress(t *testing.T) {
	metricsAddr := freeAddr(t)
	addr, _ := serveProbes(t, worker.HTTPOptions{MetricsAddr: metricsAddr, Auth: worker.HTTPAuth{Token: "t0ken"}})
	if code, _ := post(t, "http://"+addr+"/articles", func(r *http.Request) { r.Header.Set("Authorization", "Bearer t0ken") }); code != 200 {
		t.Fatalf("articles on the main address: %d", code)
	}
	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		resp, err := client.Get("http://" + metricsAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s on the metrics address: %d", path, resp.StatusCode)
		}
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer t0ken")
		resp, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s on the main address: %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestAStalledBodyHitsTheReadDeadline(t *testing.T) {
	addr, _ := serveProbes(t, worker.HTTPOptions{BodyTimeout: 200 * time.Millisecond, Auth: worker.HTTPAuth{NoAuth: true}})
	var conn net.Conn
	var err error
	for i := 0; i < 50; i++ {
		if conn, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	// Promise 1000 bytes, send 10, and stall.
	fmt.Fprintf(conn, "POST /articles HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("%d, want 408", resp.StatusCode)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns a pool trusting it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dewire test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
