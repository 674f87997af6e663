package deploy

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"gopkg.in/yaml.v3"
)

// The command line the deploy files assume; cmd/dewire must accept all of it.
var (
	workerKinds = []string{"ingest", "normalize", "translate", "sink"}
	subcommands = []string{"worker", "setup", "replay", "version"}
	knownFlags  = []string{"--nats", "--nats-creds", "--http-addr", "--watch", "--out", "--engine", "--replicas"}
	knownEnv    = []string{
		"DEWIRE_NATS_URL",
		"DEWIRE_NATS_USER",
		"DEWIRE_NATS_PASSWORD",
		"DEWIRE_NATS_CREDS",
		"DEWIRE_NATS_INBOX_PREFIX",
		"DEWIRE_NATS_TLS_CA",
		"DEWIRE_HTTP_ADDR",
		"DEWIRE_HTTP_TOKEN", // a secret: read by cmd/dewire, never a flag
		"DEWIRE_ENGINE",
		"DEWIRE_DEEPL_AUTH_KEY",
		"DEWIRE_OUT",
		"DEWIRE_WATCH",
		"DEWIRE_POSTGRES_DSN",
		"DEWIRE_REPLICAS",
	}
)

// yamlFiles lists every YAML file under deploy/.
func yamlFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// decodeAll parses every document of a YAML file.
func decodeAll(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		switch d := doc.(type) {
		case map[string]any:
			docs = append(docs, d)
		case []any, nil: // a JSON6902 patch file, or an empty document
		default:
			t.Fatalf("%s: document of type %T", path, doc)
		}
	}
}

// get walks a path of map keys and list indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any) string { s, _ := v.(string); return s }

func list(v any) []any { l, _ := v.([]any); return l }

func TestEveryYAMLFileParses(t *testing.T) {
	files := yamlFiles(t)
	if len(files) < 10 {
		t.Fatalf("found only %d YAML files: %v", len(files), files)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) { decodeAll(t, f) })
	}
}

func TestKustomizationsPointAtExistingFiles(t *testing.T) {
	dirs := []string{"k8s/base", "k8s/overlays/dev", "k8s/overlays/prod"}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			docs := decodeAll(t, filepath.Join(dir, "kustomization.yaml"))
			if len(docs) != 1 {
				t.Fatalf("want one document, got %d", len(docs))
			}
			k := docs[0]
			var refs []string
			for _, r := range list(k["resources"]) {
				refs = append(refs, str(r))
			}
			for _, p := range list(k["patches"]) {
				if path := str(get(p, "path")); path != "" {
					refs = append(refs, path)
				} else if str(get(p, "patch")) == "" {
					t.Errorf("patch with neither path nor inline patch: %v", p)
				}
			}
			if len(refs) == 0 {
				t.Fatal("no resources or patches")
			}
			for _, r := range refs {
				fi, err := os.Stat(filepath.Join(dir, r))
				if err != nil {
					t.Errorf("%s: %v", r, err)
					continue
				}
				if fi.IsDir() {
					if _, err := os.Stat(filepath.Join(dir, r, "kustomization.yaml")); err != nil {
						t.Errorf("%s: directory without kustomization.yaml", r)
					}
				}
			}
		})
	}
}

// kustomizeBuild renders an overlay with kubectl when it is installed, which
// also applies every patch; otherwise the base's files are read directly.
func manifests(t *testing.T, dir string) []map[string]any {
	t.Helper()
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		out, err := exec.Command(kubectl, "kustomize", dir).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, ee.Stderr)
			}
			t.Fatalf("kubectl kustomize %s: %v", dir, err)
		}
		f := filepath.Join(t.TempDir(), "out.yaml")
		if err := os.WriteFile(f, out, 0o600); err != nil {
			t.Fatal(err)
		}
		return decodeAll(t, f)
	}
	if dir != "k8s/base" {
		t.Skipf("kubectl not installed: cannot render %s", dir)
	}
	var docs []map[string]any
	for _, r := range list(decodeAll(t, filepath.Join(dir, "kustomization.yaml"))[0]["resources"]) {
		docs = append(docs, decodeAll(t, filepath.Join(dir, str(r)))...)
	}
	return docs
}

func TestManifests(t *testing.T) {
	consumers := map[string]map[string]bool{}
	for _, st := range topology {
		consumers[st.name] = map[string]bool{}
		for _, c := range st.consumers {
			consumers[st.name][c] = true
		}
	}
	for _, dir := range []string{"k8s/base", "k8s/overlays/dev", "k8s/overlays/prod"} {
		t.Run(dir, func(t *testing.T) {
			docs := manifests(t, dir)
			workloads := map[string]map[string]any{} // "Kind/name"
			configKeys := map[string]bool{}
			var scaled []map[string]any
			for _, d := range docs {
				switch kind, name := str(d["kind"]), str(get(d, "metadata", "name")); kind {
				case "Deployment", "StatefulSet", "Job":
					workloads[kind+"/"+name] = d
				case "ScaledObject":
					scaled = append(scaled, d)
				case "ConfigMap":
					for k := range get(d, "data").(map[string]any) {
						configKeys[k] = true
					}
				}
			}
			for k := range configKeys {
				if !slices.Contains(knownEnv, k) {
					t.Errorf("ConfigMap sets %s, not a known dewire variable", k)
				}
			}
			kinds := map[string]bool{}
			for id, w := range workloads {
				t.Run(id, func(t *testing.T) {
					spec := get(w, "spec", "template", "spec")
					containers := list(get(spec, "containers"))
					if len(containers) != 1 {
						t.Fatalf("want one container, got %d", len(containers))
					}
					c := containers[0]
					args := list(get(c, "args"))
					checkArgs(t, args, kinds)
					for _, e := range list(get(c, "env")) {
						if name := str(get(e, "name")); !slices.Contains(knownEnv, name) {
							t.Errorf("env %s is not a known dewire variable", name)
						}
					}
					if get(spec, "securityContext", "runAsNonRoot") != true {
						t.Error("pod does not require runAsNonRoot")
					}
					if get(c, "securityContext", "readOnlyRootFilesystem") != true {
						t.Error("container root filesystem is writable")
					}
					if get(c, "resources", "requests") == nil || get(c, "resources", "limits") == nil {
						t.Error("container has no resource requests and limits")
					}
					if strings.HasPrefix(id, "Job/") {
						return
					}
					if p := str(get(c, "livenessProbe", "httpGet", "path")); p != "/healthz" {
						t.Errorf("liveness probe path %q, want /healthz", p)
					}
					if p := str(get(c, "readinessProbe", "httpGet", "path")); p != "/readyz" {
						t.Errorf("readiness probe path %q, want /readyz", p)
					}
					if g, _ := get(spec, "terminationGracePeriodSeconds").(int); g < 30 {
						t.Errorf("terminationGracePeriodSeconds %d, want at least 30 to drain", g)
					}
				})
			}
			for _, k := range workerKinds {
				if !kinds[k] {
					t.Errorf("no workload runs `dewire worker %s`", k)
				}
			}
			if len(scaled) == 0 {
				t.Fatal("no ScaledObject")
			}
			for _, so := range scaled {
				name := str(get(so, "metadata", "name"))
				t.Run("ScaledObject/"+name, func(t *testing.T) {
					kind := str(get(so, "spec", "scaleTargetRef", "kind"))
					if kind == "" {
						kind = "Deployment"
					}
					target := kind + "/" + str(get(so, "spec", "scaleTargetRef", "name"))
					if workloads[target] == nil {
						t.Errorf("scales %s, which does not exist", target)
					}
					triggers := list(get(so, "spec", "triggers"))
					if len(triggers) == 0 {
						t.Fatal("no triggers")
					}
					for _, tr := range triggers {
						if typ := str(get(tr, "type")); typ != "nats-jetstream" {
							t.Errorf("trigger type %q", typ)
						}
						md, _ := get(tr, "metadata").(map[string]any)
						for _, field := range []string{"natsServerMonitoringEndpoint", "account", "stream", "consumer", "lagThreshold"} {
							if str(md[field]) == "" {
								t.Errorf("trigger lacks %s", field)
							}
						}
						stream, consumer := str(md["stream"]), str(md["consumer"])
						if !consumers[stream][consumer] {
							t.Errorf("trigger names %s/%s, not a consumer of the topology", stream, consumer)
						}
						if a := str(md["account"]); a != natsAccount {
							t.Errorf("trigger account %q, want %q", a, natsAccount)
						}
					}
				})
			}
		})
	}
}

// checkArgs accepts `worker <kind> [--flag value]...` and `setup`, and records
// the worker kinds seen.
func checkArgs(t *testing.T, args []any, kinds map[string]bool) {
	t.Helper()
	if len(args) == 0 {
		t.Fatal("no args")
	}
	if cmd := str(args[0]); !slices.Contains(subcommands, cmd) {
		t.Fatalf("subcommand %q unknown", cmd)
	}
	rest := args[1:]
	if str(args[0]) == "worker" {
		if len(args) < 2 || !slices.Contains(workerKinds, str(args[1])) {
			t.Fatalf("args %v do not name a worker kind of %v", args, workerKinds)
		}
		kinds[str(args[1])] = true
		rest = args[2:]
	}
	for _, a := range rest {
		s := str(a)
		if !strings.HasPrefix(s, "--") {
			continue
		}
		flag, _, _ := strings.Cut(s, "=")
		if !slices.Contains(knownFlags, flag) {
			t.Errorf("flag %s is not a known dewire flag", flag)
		}
	}
}

func TestComposeFile(t *testing.T) {
	docs := decodeAll(t, "docker-compose.yml")
	if len(docs) != 1 {
		t.Fatalf("want one document, got %d", len(docs))
	}
	services, _ := docs[0]["services"].(map[string]any)
	for _, want := range append([]string{"nats", "setup", "postgres"}, workerKinds...) {
		if services[want] == nil {
			t.Errorf("no service %q", want)
		}
	}
	accounts, err := os.ReadFile("nats/accounts.conf")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for name, svc := range services {
		t.Run(name, func(t *testing.T) {
			if b := get(svc, "build"); b != nil {
				ctx := str(get(b, "context"))
				if _, err := os.Stat(filepath.Join(ctx, str(get(b, "dockerfile")))); err != nil {
					t.Errorf("build: %v", err)
				}
				if _, err := os.Stat(filepath.Join(ctx, "go.mod")); err != nil {
					t.Errorf("build context is not the module root: %v", err)
				}
			}
			declared, _ := get(docs[0], "volumes").(map[string]any)
			for _, v := range list(get(svc, "volumes")) {
				src, _, _ := strings.Cut(str(v), ":")
				switch {
				case strings.HasPrefix(src, "."):
					if _, err := os.Stat(src); err != nil {
						t.Errorf("volume %s: %v", v, err)
					}
				case !strings.HasPrefix(src, "/"):
					if _, ok := declared[src]; !ok {
						t.Errorf("named volume %s is not declared", src)
					}
				}
			}
			deps, _ := get(svc, "depends_on").(map[string]any)
			for dep := range deps {
				if services[dep] == nil {
					t.Errorf("depends on unknown service %s", dep)
				}
			}
			env, _ := get(svc, "environment").(map[string]any)
			for k := range env {
				switch {
				case strings.HasPrefix(k, "DEWIRE_"):
					if !slices.Contains(knownEnv, k) {
						t.Errorf("env %s is not a known dewire variable", k)
					}
				case name == "nats" && !bytes.Contains(accounts, []byte("$"+k)):
					t.Errorf("nats gets %s, which accounts.conf never uses", k)
				}
			}
			if cmd := list(get(svc, "command")); name != "nats" && name != "postgres" {
				checkArgs(t, cmd, kinds)
			}
		})
	}
	for _, k := range workerKinds {
		if !kinds[k] {
			t.Errorf("no service runs `dewire worker %s`", k)
		}
	}
	// Every password accounts.conf needs reaches the nats service.
	natsEnv, _ := get(services["nats"], "environment").(map[string]any)
	for _, env := range roles {
		if natsEnv[env] == nil {
			t.Errorf("nats service lacks %s", env)
		}
	}
}

func TestNATSConfigs(t *testing.T) {
	setPasswords(t)

	t.Run("nats-single.conf stores durably", func(t *testing.T) {
		opts, err := server.ProcessConfigFile("nats/nats-single.conf")
		if err != nil {
			t.Fatal(err)
		}
		if !opts.JetStream || !opts.SyncAlways || opts.StoreDir == "" {
			t.Errorf("jetstream=%v sync always=%v store_dir=%q", opts.JetStream, opts.SyncAlways, opts.StoreDir)
		}
		if opts.HTTPPort == 0 {
			t.Error("no monitoring port; KEDA reads /jsz from it")
		}
	})

	t.Run("nats-cluster.conf has three routes and durable storage", func(t *testing.T) {
		t.Setenv("SERVER_NAME", "nats-0")
		dir := t.TempDir()
		writeTestCerts(t, filepath.Join(dir, "tls", "server"))
		writeTestCerts(t, filepath.Join(dir, "tls", "route"))
		conf := copyConfigs(t, dir, "/etc/nats/tls/", filepath.Join(dir, "tls")+"/")
		opts, err := server.ProcessConfigFile(filepath.Join(conf, "nats-cluster.conf"))
		if err != nil {
			t.Fatal(err)
		}
		if len(opts.Routes) != 3 {
			t.Errorf("routes = %d, want 3", len(opts.Routes))
		}
		if !opts.JetStream || !opts.SyncAlways {
			t.Errorf("jetstream=%v sync always=%v", opts.JetStream, opts.SyncAlways)
		}
		if opts.Cluster.TLSConfig == nil || opts.TLSConfig == nil {
			t.Error("cluster or client TLS is off")
		}
		if opts.ServerName != "nats-0" {
			t.Errorf("server_name = %q, want it from $SERVER_NAME", opts.ServerName)
		}
	})

	t.Run("a missing password stops the server from starting", func(t *testing.T) {
		os.Unsetenv("NATS_DESK_PASSWORD") // t.Setenv above restores it
		if _, err := server.ProcessConfigFile("nats/nats-single.conf"); err == nil {
			t.Error("config loaded without NATS_DESK_PASSWORD")
		}
	})
}

// copyConfigs copies deploy/nats into dir, replacing old with new in every file.
func copyConfigs(t *testing.T, dir, old, new string) string {
	t.Helper()
	out := filepath.Join(dir, "nats")
	if err := os.MkdirAll(out, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("nats")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("nats", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte(old), []byte(new))
		if err := os.WriteFile(filepath.Join(out, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// writeTestCerts writes a self-signed tls.crt, tls.key and ca.crt into dir.
func writeTestCerts(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "nats"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"tls.crt": cert,
		"ca.crt":  cert,
		"tls.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// Dockerfile instructions we accept.
var dockerInstructions = []string{"FROM", "RUN", "COPY", "ADD", "ARG", "ENV", "WORKDIR", "USER", "EXPOSE",
	"ENTRYPOINT", "CMD", "LABEL", "HEALTHCHECK", "STOPSIGNAL", "VOLUME", "SHELL", "ONBUILD"}

func TestDockerfile(t *testing.T) {
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Join continuation lines, drop comments and blank lines.
	var lines []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	stages := map[string]bool{}
	var last, build, entrypoint, user string
	from := regexp.MustCompile(`(?i)^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$`)
	copyFrom := regexp.MustCompile(`--from=(\S+)`)
	for _, l := range lines {
		instr, _, _ := strings.Cut(l, " ")
		instr = strings.ToUpper(instr)
		if !slices.Contains(dockerInstructions, instr) {
			t.Errorf("unknown instruction %q", l)
		}
		switch instr {
		case "FROM":
			m := from.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("cannot parse %q", l)
			}
			last, user = m[1], ""
			if m[2] != "" {
				stages[m[2]] = true
			}
		case "COPY":
			if m := copyFrom.FindStringSubmatch(l); m != nil && !stages[m[1]] {
				t.Errorf("%q copies from an undefined stage", l)
			}
		case "RUN":
			if strings.Contains(l, "go build") {
				build = l
			}
		case "ENTRYPOINT":
			entrypoint = l
		case "USER":
			user = l
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOEXPERIMENT=simd", "-trimpath", "-s -w", "-X main.version=", "./cmd/dewire"} {
		if !strings.Contains(build, want) {
			t.Errorf("build command lacks %q: %s", want, build)
		}
	}
	if !strings.Contains(last, "distroless/static") || !strings.Contains(last, "nonroot") {
		t.Errorf("final image %q, want distroless/static nonroot", last)
	}
	if !strings.Contains(user, "nonroot") {
		t.Errorf("final stage runs as %q, want nonroot", user)
	}
	if !strings.Contains(entrypoint, "dewire") {
		t.Errorf("entrypoint %q does not run dewire", entrypoint)
	}
}
