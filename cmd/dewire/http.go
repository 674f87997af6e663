package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
)

// probes serves /metrics, /healthz and /readyz.
type probes struct {
	reg    *prometheus.Registry
	ready  atomic.Pointer[func() error]
	extra  http.ServeMux
	routes atomic.Bool
}

// handle adds a route (e.g. POST /articles) beside the probes; call it
// before serve.
func (p *probes) handle(pattern string, h http.Handler) {
	p.extra.Handle(pattern, h)
	p.routes.Store(true)
}

func newProbes() *probes {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &probes{reg: reg}
}

// setReady installs the readiness check; until then /readyz answers 503.
func (p *probes) setReady(f func() error) { p.ready.Store(&f) }

func (p *probes) handler() http.Handler {
	mux := http.NewServeMux()
	if p.routes.Load() {
		mux.Handle("/", &p.extra)
	}
	mux.Handle("/metrics", promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{Registry: p.reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		f := p.ready.Load()
		if f == nil {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		if err := (*f)(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux
}

// serve runs the probe server on addr until ctx ends ("" disables it).
func (p *probes) serve(ctx context.Context, addr string, log *zap.Logger) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return usagef("--http-addr %s: %v", addr, err)
	}
	srv := &http.Server{Handler: p.handler(), ReadHeaderTimeout: 5 * time.Second}
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
