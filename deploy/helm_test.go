package deploy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"gopkg.in/yaml.v3"

	"github.com/dewire/dewire/internal/testenv"
	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/pipeline/mt/engines"
	pnorm "github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
	wnorm "github.com/dewire/dewire/workers/normalize"
	"github.com/dewire/dewire/workers/sink"
	"github.com/dewire/dewire/workers/translate"
	"github.com/dewire/dewire/workers/worker"
)

// helmInstall is how CI installs the helm this test renders with.
const helmInstall = "go install helm.sh/helm/v3/cmd/helm@v3.22.0"

// renderNATS runs `helm template` on the official chart with a values file,
// exactly as deploy/README.md installs it, and returns the documents.
func renderNATS(t *testing.T, values string) []map[string]any {
	t.Helper()
	helm, err := exec.LookPath("helm")
	if err != nil {
		testenv.RequireOrSkip(t, "helm not installed ("+helmInstall+")")
	}
	chart := filepath.Join(testenv.Shared(t), "charts", "nats")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, helm, "template", "nats", chart, "--namespace", "nats",
		"-f", filepath.Join("nats", values), "--set-file", `configMap.merge.data.accounts\.conf=nats/accounts.conf`)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template -f %s: %v\n%s", values, err, stderr.String())
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("rendered YAML: %v", err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
	return docs
}

func findDoc(t *testing.T, docs []map[string]any, kind, name string) map[string]any {
	t.Helper()
	for _, d := range docs {
		if d["kind"] == kind && str(get(d, "metadata", "name")) == name {
			return d
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

// serverConfig writes the rendered ConfigMap's files into a folder and
// returns the path of nats.conf in it.
func serverConfig(t *testing.T, docs []map[string]any, rewrite func(string) string) string {
	t.Helper()
	data, _ := get(findDoc(t, docs, "ConfigMap", "nats-config"), "data").(map[string]any)
	dir := t.TempDir()
	for _, name := range []string{"nats.conf", "accounts.conf"} {
		text, ok := data[name].(string)
		if !ok || text == "" {
			t.Fatalf("the ConfigMap has no %s", name)
		}
		if rewrite != nil {
			text = rewrite(text)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "nats.conf")
}

// checkPasswordsFromSecret checks that every password accounts.conf needs
// reaches the nats container from the Secret nats-dewire.
func checkPasswordsFromSecret(t *testing.T, docs []map[string]any) {
	t.Helper()
	sts := findDoc(t, docs, "StatefulSet", "nats")
	var env []any
	for _, c := range list(get(sts, "spec", "template", "spec", "containers")) {
		if str(get(c, "name")) == "nats" {
			env = list(get(c, "env"))
		}
	}
	for user, name := range roles {
		found := false
		for _, e := range env {
			if str(get(e, "name")) == name {
				ref := get(e, "valueFrom", "secretKeyRef")
				found = str(get(ref, "name")) == "nats-dewire" && str(get(ref, "key")) == user+"-password"
			}
		}
		if !found {
			t.Errorf("%s does not come from secret nats-dewire, key %s-password", name, user)
		}
	}
}

// checkMonitorPort checks that the client Service exposes the monitoring
// port KEDA reads.
func checkMonitorPort(t *testing.T, docs []map[string]any) {
	t.Helper()
	for _, p := range list(get(findDoc(t, docs, "Service", "nats"), "spec", "ports")) {
		if str(get(p, "name")) == "monitor" && get(p, "port") == 8222 {
			return
		}
	}
	t.Error("Service nats does not expose the monitoring port 8222 (KEDA's natsServerMonitoringEndpoint)")
}

// loadRendered reads the rendered configuration with the server's own parser
// and makes it runnable here: a free port, a temporary store, no pid file,
// no monitoring listener.
func loadRendered(t *testing.T, conf string) *server.Options {
	t.Helper()
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatalf("the rendered nats.conf: %v", err)
	}
	if !opts.JetStream || !opts.SyncAlways || opts.StoreDir != "/data" {
		t.Errorf("jetstream %v, sync_interval always %v, store %q: want file storage with fsync on every write", opts.JetStream, opts.SyncAlways, opts.StoreDir)
	}
	if opts.SystemAccount != "SYS" {
		t.Errorf("system account %q, want SYS", opts.SystemAccount)
	}
	if opts.MaxPayload != 8<<20 {
		t.Errorf("max_payload %d, want 8MB", opts.MaxPayload)
	}
	opts.Host, opts.Port = "127.0.0.1", server.RANDOM_PORT
	opts.HTTPHost, opts.HTTPPort = "", 0
	opts.StoreDir, opts.PidFile = t.TempDir(), ""
	opts.NoLog, opts.NoSigs = true, true
	return opts
}

func startRendered(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

func TestHelmDevValuesRunThePipeline(t *testing.T) {
	docs := renderNATS(t, "values-dev.yaml")
	checkPasswordsFromSecret(t, docs)
	checkMonitorPort(t, docs)
	pw := setPasswords(t)
	t.Setenv("SERVER_NAME", "nats-0") // the chart sets it from the pod name
	s := startRendered(t, loadRendered(t, serverConfig(t, docs, nil)))
	url := s.ClientURL()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Run("dewire setup creates the topology as admin", func(t *testing.T) {
		nc, err := bus.Connect(ctx, bus.Conn{URL: url, User: "admin", Password: pw["admin"]}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, err := bus.JetStream(nc)
		if err != nil {
			t.Fatal(err)
		}
		if err := bus.DefaultTopology().Ensure(ctx, js); err != nil {
			t.Fatalf("topology: %v", err)
		}
	})
	t.Run("the system user sees the server, as nats server report does", func(t *testing.T) {
		nc, err := nats.Connect(url, nats.UserInfo("sys", pw["sys"]), nats.Timeout(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if _, err := nc.Request("$SYS.REQ.SERVER.PING.JSZ", nil, 5*time.Second); err != nil {
			t.Fatalf("$SYS.REQ.SERVER.PING.JSZ: %v", err)
		}
	})
	t.Run("one worker per role carries an article to the sink", func(t *testing.T) {
		dir := t.TempDir()
		inbox, out := filepath.Join(dir, "inbox"), filepath.Join(dir, "out")
		os.Mkdir(inbox, 0o755)
		os.WriteFile(filepath.Join(inbox, "meldung.json"), []byte(`{"guid":"helm-1","title":"Bericht über die Lage","paragraphs":["Der Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt."]}`), 0o644)
		de, err := pnorm.New("de")
		if err != nil {
			t.Fatal(err)
		}
		en, err := pnorm.New("en")
		if err != nil {
			t.Fatal(err)
		}
		wctx, stop := context.WithCancel(ctx)
		errs := make(chan error, 4)
		for _, kind := range worker.Kinds() {
			cfg := worker.Config{
				Kind: kind, Concurrency: 2, Grace: time.Second,
				Conn:      bus.Conn{URL: url, User: kind, Password: pw[kind], InboxPrefix: "_INBOX." + kind},
				Ingest:    ingest.Options{Reader: &intake.Reader{}, Paths: []string{inbox}, Watch: 100 * time.Millisecond},
				Normalize: wnorm.Options{DE: de, EN: en},
				Translate: translate.Options{EngineConfig: translate.EngineConfig{Config: engines.Config{Name: "none"}}},
				Sink:      sink.Options{Out: out},
			}
			go func() { errs <- worker.Run(wctx, cfg) }()
		}
		defer func() {
			stop()
			for range worker.Kinds() {
				if err := <-errs; err != nil {
					t.Errorf("worker: %v", err)
				}
			}
		}()
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if n := sinkRecords(t, out); n == 1 {
				return
			}
			select {
			case err := <-errs:
				t.Fatalf("a worker stopped: %v", err)
			case <-time.After(50 * time.Millisecond):
			}
		}
		t.Fatal("the article did not reach the sink within 60s")
	})
}

func TestHelmProdValuesServeTLS(t *testing.T) {
	docs := renderNATS(t, "values-prod.yaml")
	checkPasswordsFromSecret(t, docs)
	checkMonitorPort(t, docs)
	if r := get(findDoc(t, docs, "StatefulSet", "nats"), "spec", "replicas"); r != 3 {
		t.Errorf("replicas %v, want 3", r)
	}
	// The certificates the Secrets nats-server-tls, nats-route-tls and nats-ca hold.
	certs := t.TempDir()
	ca, caKey := testCA(t)
	writeLeaf(t, filepath.Join(certs, "nats"), ca, caKey)
	writeLeaf(t, filepath.Join(certs, "cluster"), ca, caKey)
	os.MkdirAll(filepath.Join(certs, "ca"), 0o755)
	writePEMFile(t, filepath.Join(certs, "ca", "ca.crt"), "CERTIFICATE", ca.Raw)
	rewrite := strings.NewReplacer("/etc/nats-certs/nats", filepath.Join(certs, "nats"),
		"/etc/nats-certs/cluster", filepath.Join(certs, "cluster"), "/etc/nats-ca-cert", filepath.Join(certs, "ca")).Replace
	pw := setPasswords(t)
	t.Setenv("SERVER_NAME", "nats-0")
	opts := loadRendered(t, serverConfig(t, docs, rewrite))
	if opts.TLSConfig == nil {
		t.Fatal("no TLS for clients")
	}
	if opts.Cluster.TLSConfig == nil || opts.Cluster.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Fatal("routes without mutual TLS")
	}
	if len(opts.Routes) != 3 || opts.Routes[0].Scheme != "tls" {
		t.Fatalf("routes %v, want three over tls", opts.Routes)
	}
	// This node runs alone: no routes, and no clustered JetStream waiting for peers.
	opts.Routes, opts.Cluster.Port, opts.JetStream = nil, server.RANDOM_PORT, false
	opts.Cluster.Host = "127.0.0.1"
	s := startRendered(t, opts)
	url := s.ClientURL()
	if !plainClientRefused(t, s.Addr().String()) {
		t.Fatal("a client without TLS was answered")
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	nc, err := nats.Connect(url, nats.UserInfo("sys", pw["sys"]), nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}), nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("a TLS client trusting the CA: %v", err)
	}
	nc.Close()
}

func testCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
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

// writeLeaf writes tls.crt and tls.key, for server and client use, into dir.
func writeLeaf(t *testing.T, dir string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "nats"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	writePEMFile(t, filepath.Join(dir, "tls.crt"), "CERTIFICATE", der)
	writePEMFile(t, filepath.Join(dir, "tls.key"), "PRIVATE KEY", kder)
}

func writePEMFile(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// sinkRecords counts the records under out.
func sinkRecords(t *testing.T, out string) int {
	t.Helper()
	recs, err := sink.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
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
