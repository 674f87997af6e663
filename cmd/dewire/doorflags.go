package main

import (
	"errors"
	"net"
	"time"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/ingest"
	"github.com/dewire/dewire/workers/worker"
)

// httpDoorFlags lock the HTTP endpoints: credentials for POST /articles
// (secrets from the environment or files only), HTTPS, a separate metrics
// address and the body read deadline.
type httpDoorFlags struct {
	auth              string
	user              string
	passwordFile      string
	tokenFile         string
	certFile, keyFile string
	metricsAddr       string
	bodyTimeout       time.Duration
}

func (h *httpDoorFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&h.auth, "http-auth", "required", "POST /articles: required (a token or password, else the endpoint stays locked) or none (open to anyone who reaches --http-addr)")
	fs.StringVar(&h.tokenFile, "http-token-file", "", "file holding the bearer token POST /articles requires ($DEWIRE_HTTP_TOKEN also works)")
	fs.StringVar(&h.user, "http-user", "dewire", "user name for basic authentication on POST /articles")
	fs.StringVar(&h.passwordFile, "http-password-file", "", "file holding the basic-auth password POST /articles requires ($DEWIRE_HTTP_PASSWORD also works)")
	fs.StringVar(&h.certFile, "http-tls-cert", "", "serve --http-addr as HTTPS with this certificate file (PEM)")
	fs.StringVar(&h.keyFile, "http-tls-key", "", "key file (PEM) for --http-tls-cert")
	fs.StringVar(&h.metricsAddr, "metrics-addr", "", "serve /metrics, /healthz and /readyz on this address instead of --http-addr")
	fs.DurationVar(&h.bodyTimeout, "http-body-timeout", time.Minute, "how long a client may take to send a POST body")
}

// options turns the flags into worker.HTTPOptions. articlesOnly says that
// POST /articles is the only reason to serve --http-addr, so a locked one
// is a usage error rather than a warning.
func (h *httpDoorFlags) options(httpAddr string, articles, articlesOnly bool, log *zap.Logger) (worker.HTTPOptions, error) {
	o := worker.HTTPOptions{MetricsAddr: h.metricsAddr, CertFile: h.certFile, KeyFile: h.keyFile, BodyTimeout: h.bodyTimeout}
	if (h.certFile == "") != (h.keyFile == "") {
		return o, usagef("--http-tls-cert and --http-tls-key go together")
	}
	if h.bodyTimeout <= 0 {
		return o, usagef("--http-body-timeout %s: want a positive duration", h.bodyTimeout)
	}
	switch h.auth {
	case "none":
		o.Auth.NoAuth = true
		return o, nil
	case "required":
	default:
		return o, usagef("--http-auth %q: want required or none", h.auth)
	}
	tok, err := secret("DEWIRE_HTTP_TOKEN", h.tokenFile)
	if err != nil {
		return o, usagef("--http-token-file: %v", err)
	}
	pw, err := secret("DEWIRE_HTTP_PASSWORD", h.passwordFile)
	if err != nil {
		return o, usagef("--http-password-file: %v", err)
	}
	o.Auth = worker.HTTPAuth{Token: tok, User: h.user, Password: pw}
	if articles && httpAddr != "" && o.Auth.IsZero() {
		const how = "set $DEWIRE_HTTP_TOKEN or --http-token-file (or a password: $DEWIRE_HTTP_PASSWORD, --http-password-file), or --http-auth none"
		if articlesOnly {
			return o, usagef("POST /articles on --http-addr %s has no credentials to check: %s", httpAddr, how)
		}
		log.Warn("POST /articles stays locked (401): no credentials configured; "+how, zap.String("http_addr", httpAddr))
	}
	return o, nil
}

// loopbackDefault binds an address given without host (":8080") to
// loopback, as `dewire run` serves one machine.
func loopbackDefault(addr string) string {
	if host, port, err := net.SplitHostPort(addr); err == nil && host == "" {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

// listenFlags lock the embedded NATS server's --listen port.
type listenFlags struct {
	user, passwordFile, tokenFile string
	certFile, keyFile, caFile     string
}

func (l *listenFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&l.user, "listen-user", "", "--listen: user name clients must give; the password comes from $DEWIRE_LISTEN_PASSWORD or --listen-password-file")
	fs.StringVar(&l.passwordFile, "listen-password-file", "", "--listen: file holding the password for --listen-user")
	fs.StringVar(&l.tokenFile, "listen-token-file", "", "--listen: file holding the token clients must give ($DEWIRE_LISTEN_TOKEN also works)")
	fs.StringVar(&l.certFile, "listen-tls-cert", "", "--listen: serve TLS with this certificate file (PEM)")
	fs.StringVar(&l.keyFile, "listen-tls-key", "", "--listen: key file (PEM) for --listen-tls-cert")
	fs.StringVar(&l.caFile, "listen-tls-ca", "", "--listen: require client certificates signed by this CA file")
}

// access is what the embedded server asks of clients.
func (l *listenFlags) access() (bus.ServerAuth, bus.ServerTLS, error) {
	tls := bus.ServerTLS{CertFile: l.certFile, KeyFile: l.keyFile, CAFile: l.caFile}
	if (l.certFile == "") != (l.keyFile == "") {
		return bus.ServerAuth{}, tls, usagef("--listen-tls-cert and --listen-tls-key go together")
	}
	tok, err := secret("DEWIRE_LISTEN_TOKEN", l.tokenFile)
	if err != nil {
		return bus.ServerAuth{}, tls, usagef("--listen-token-file: %v", err)
	}
	pw, err := secret("DEWIRE_LISTEN_PASSWORD", l.passwordFile)
	if err != nil {
		return bus.ServerAuth{}, tls, usagef("--listen-password-file: %v", err)
	}
	a := bus.ServerAuth{Token: tok}
	switch {
	case l.user != "" && pw == "":
		return a, tls, usagef("--listen-user %s needs a password: $DEWIRE_LISTEN_PASSWORD or --listen-password-file", l.user)
	case l.user == "" && pw != "":
		return a, tls, usagef("a --listen password needs --listen-user")
	case l.user != "" && tok != "":
		return a, tls, usagef("--listen takes a user and password or a token, not both")
	}
	a.User, a.Password = l.user, pw
	return a, tls, nil
}

// onlyFeedsFailed says whether err is feed failures and nothing else.
func onlyFeedsFailed(err error) bool {
	if _, ok := err.(*ingest.FeedError); ok {
		return true
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlyFeedsFailed(e) {
				return false
			}
		}
		return len(j.Unwrap()) > 0
	}
	if w := errors.Unwrap(err); w != nil {
		return onlyFeedsFailed(w)
	}
	return false
}
