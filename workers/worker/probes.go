package worker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
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

// Handler serves the probes and everything registered on Mux.
func (p *Probes) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", p.routes())
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
	return mux
}

// ErrListen wraps a failure to listen on the HTTP address (a usage error).
var ErrListen = errors.New("cannot listen")

// Serve runs the HTTP server on addr until ctx ends ("" disables it). It
// returns once the listener is open.
func (p *Probes) Serve(ctx context.Context, addr string, log *zap.Logger) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--http-addr %s: %w: %v", addr, ErrListen, err)
	}
	srv := &http.Server{Handler: p.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", zap.Error(err))
		}
	}()
	log.Info("serving /metrics /healthz /readyz", zap.String("addr", ln.Addr().String()))
	return nil
}
