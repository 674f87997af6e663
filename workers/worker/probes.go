package worker

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/dewire/dewire/workers/stage"
)

// Probes serve /metrics, /healthz and /readyz, and the routes worker kinds
// add to Mux (ingest's POST /articles).
type Probes struct {
	Registry *prometheus.Registry
	Health   *stage.Health
	Mux      *http.ServeMux

	mu       sync.Mutex
	expected map[string]bool // routes a worker kind will register once it is connected
}

// Expect says a route will be registered on Mux once the worker is ready;
// until then it answers 503 with Retry-After instead of 404, so clients retry.
func (p *Probes) Expect(path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.expected == nil {
		p.expected = map[string]bool{}
	}
	p.expected[path] = true
}

func (p *Probes) routes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := p.Mux.Handler(r); pattern == "" {
			p.mu.Lock()
			expected := p.expected[r.URL.Path]
			p.mu.Unlock()
			if expected {
				w.Header().Set("Retry-After", "2")
				http.Error(w, "starting: not connected to NATS yet", http.StatusServiceUnavailable)
				return
			}
		}
		p.Mux.ServeHTTP(w, r)
	})
}

// NewProbes returns probes with the Go and process collectors registered.
func NewProbes() *Probes {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Probes{Registry: reg, Health: &stage.Health{}, Mux: http.NewServeMux()}
}

// HTTPOptions lock and place the HTTP endpoints. The zero value serves
// everything on one plain-HTTP address and refuses every Mux route (POST
// /articles) with 401: a door opens only with credentials or an explicit
// NoAuth.
type HTTPOptions struct {
	// MetricsAddr, when set, serves /metrics, /healthz and /readyz there
	// instead of on the main address, which then serves only the Mux routes.
	MetricsAddr string
	// CertFile and KeyFile (PEM) make the main address HTTPS only.
	CertFile, KeyFile string
	// Auth guards the Mux routes; the probes stay open for orchestrators.
	Auth HTTPAuth
	// BodyTimeout bounds reading one request body on a Mux route
	// (default 1 minute); a client that stalls gets 408.
	BodyTimeout time.Duration
}

// HTTPAuth is what a Mux route asks of a request: "Authorization: Bearer
// <Token>", or basic authentication with User and Password. Either works
// when both are set.
type HTTPAuth struct {
	Token          string
	User, Password string
	// NoAuth opens the routes to anyone (a trusted network only).
	NoAuth bool
}

// IsZero says whether no credentials are configured.
func (a HTTPAuth) IsZero() bool { return a.Token == "" && a.Password == "" }

// ErrListen wraps a failure to listen on the HTTP address (a usage error).
var ErrListen = errors.New("cannot listen")

// ErrHTTPConfig marks HTTP options that cannot work (a usage error).
var ErrHTTPConfig = errors.New("http options misconfigured")

// Handler serves the probes and everything registered on Mux, the latter
// refused without credentials (see HTTPOptions).
func (p *Probes) Handler() http.Handler { return p.handler(HTTPOptions{}, true) }

// handler serves the Mux routes behind o.Auth and, with probes, the probes.
func (p *Probes) handler(o HTTPOptions, probes bool) http.Handler {
	mux := http.NewServeMux()
	// POST /articles is the door ingest locks; other routes (the desk's
	// pages, which are read-only without an editor's token and check it on
	// every action themselves) are served as they are.
	mux.Handle("/articles", guard(o, p.routes()))
	mux.Handle("/", p.routes())
	if probes {
		p.probes(mux)
	}
	return mux
}

func (p *Probes) probes(mux *http.ServeMux) {
	mux.Handle("/metrics", promhttp.HandlerFor(p.Registry, promhttp.HandlerOpts{Registry: p.Registry}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := p.Health.Err(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
}

// guard checks the credentials and sets the body's read deadline.
func guard(o HTTPOptions, next http.Handler) http.Handler {
	a := o.Auth
	token, password := digest(a.Token), digest(a.Password)
	timeout := o.BodyTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.NoAuth && !authorized(r, a, token, password) {
			if a.Password != "" {
				w.Header().Set("WWW-Authenticate", `Basic realm="dewire", charset="UTF-8"`)
			} else {
				w.Header().Set("WWW-Authenticate", `Bearer realm="dewire"`)
			}
			msg := "credentials required"
			if a.IsZero() {
				msg = "this endpoint is locked: the server has no credentials configured"
			}
			http.Error(w, msg, http.StatusUnauthorized)
			return
		}
		// Errors only where the connection cannot take a deadline (HTTP/2 tests).
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
		next.ServeHTTP(w, r)
	})
}

// digest hashes a secret so comparisons take the same time whatever its length.
func digest(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func authorized(r *http.Request, a HTTPAuth, token, password [32]byte) bool {
	h := r.Header.Get("Authorization")
	if a.Token != "" {
		if scheme, cred, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			got := digest(strings.TrimSpace(cred))
			if subtle.ConstantTimeCompare(got[:], token[:]) == 1 {
				return true
			}
		}
	}
	if a.Password != "" {
		if user, pw, ok := r.BasicAuth(); ok {
			got := digest(pw)
			userOK := subtle.ConstantTimeCompare([]byte(user), []byte(a.User)) == 1
			if subtle.ConstantTimeCompare(got[:], password[:]) == 1 && userOK {
				return true
			}
		}
	}
	return false
}

// Serve runs the HTTP server on addr until ctx ends ("" disables it), with
// the Mux routes locked (see HTTPOptions). It returns once the listener is open.
func (p *Probes) Serve(ctx context.Context, addr string, log *zap.Logger) error {
	return p.ServeWith(ctx, addr, HTTPOptions{}, log)
}

// ServeWith runs the HTTP servers o describes until ctx ends: the Mux routes
// (and the probes, without MetricsAddr) on addr, the probes on MetricsAddr.
// An empty address serves nothing. It returns once the listeners are open.
func (p *Probes) ServeWith(ctx context.Context, addr string, o HTTPOptions, log *zap.Logger) error {
	if (o.CertFile == "") != (o.KeyFile == "") {
		return fmt.Errorf("%w: HTTPS needs both a certificate and a key file", ErrHTTPConfig)
	}
	var tc *tls.Config
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrHTTPConfig, err)
		}
		tc = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if o.MetricsAddr != "" {
		mux := http.NewServeMux()
		p.probes(mux)
		if err := serve(ctx, "--metrics-addr", o.MetricsAddr, mux, nil, log); err != nil {
			return err
		}
		log.Info("serving /metrics /healthz /readyz", zap.String("addr", o.MetricsAddr))
	}
	if addr == "" {
		return nil
	}
	if err := serve(ctx, "--http-addr", addr, p.handler(o, o.MetricsAddr == ""), tc, log); err != nil {
		return err
	}
	log.Info("serving HTTP", zap.String("addr", addr), zap.Bool("tls", tc != nil), zap.Bool("auth", !o.Auth.NoAuth))
	return nil
}

func serve(ctx context.Context, flag, addr string, h http.Handler, tc *tls.Config, log *zap.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s %s: %w: %v", flag, addr, ErrListen, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute,
		TLSConfig: tc, ErrorLog: zap.NewStdLog(log.Named("http"))}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	go func() {
		var err error
		if tc != nil {
			err = srv.ServeTLS(ln, "", "") // answers plain HTTP with 400
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", zap.String("addr", addr), zap.Error(err))
		}
	}()
	return nil
}
