package bus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	neturl "net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Conn holds how to reach NATS. Secrets are read from files or the
// environment by the caller; none of these fields is ever logged.
type Conn struct {
	URL       string
	Name      string // client name shown in server monitoring
	CredsFile string // JWT + nkey credentials file
	NKeyFile  string // nkey seed file
	User      string
	Password  string
	Token     string
	CAFile    string // TLS: trust these roots
	CertFile  string // TLS: client certificate
	KeyFile   string // TLS: client key
	// InboxPrefix replaces _INBOX for replies (pulls, PubAcks) so an
	// account can confine each role to its own inboxes.
	InboxPrefix string
	// InProcess, when set, connects to an embedded server without a socket.
	InProcess nats.InProcessConnProvider
}

// ErrConfig marks a connection that cannot work as configured (a missing
// key or certificate file); retrying does not help.
var ErrConfig = errors.New("nats connection misconfigured")

// RequestTimeout bounds every JetStream API call and PubAck wait whose
// context has no deadline of its own.
const RequestTimeout = 10 * time.Second

// JetStream returns the JetStream context every worker uses: API calls and
// asynchronous PubAcks time out after RequestTimeout instead of waiting forever.
func JetStream(nc *nats.Conn) (jetstream.JetStream, error) {
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(RequestTimeout), jetstream.WithPublishAsyncTimeout(RequestTimeout))
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	return js, nil
}

// Connect dials NATS with infinite reconnects and logs connection changes.
func Connect(ctx context.Context, c Conn, log *zap.Logger) (*nats.Conn, error) {
	if log == nil {
		log = zap.NewNop()
	}
	opts := []nats.Option{
		nats.Name(c.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", zap.Error(err))
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("nats reconnected", zap.String("server", nc.ConnectedUrlRedacted())) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("nats async error", zap.String("subject", subject), zap.Error(err))
		}),
	}
	if c.InboxPrefix != "" {
		opts = append(opts, nats.CustomInboxPrefix(c.InboxPrefix))
	}
	if c.InProcess != nil {
		opts = append(opts, nats.InProcessServer(c.InProcess))
	}
	switch {
	case c.CredsFile != "":
		if _, err := os.Stat(c.CredsFile); err != nil {
			return nil, fmt.Errorf("nats credentials: %w: %w", ErrConfig, err)
		}
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	case c.NKeyFile != "":
		o, err := nats.NkeyOptionFromSeed(c.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats nkey %s: %w: %w", c.NKeyFile, ErrConfig, err)
		}
		opts = append(opts, o)
	case c.User != "":
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	case c.Token != "":
		opts = append(opts, nats.Token(c.Token))
	}
	if c.CAFile != "" || c.CertFile != "" {
		tc, err := tlsConfig(c)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		opts = append(opts, nats.Secure(tc))
	}
	url := c.URL
	if url == "" {
		url = nats.DefaultURL
	}
	type result struct {
		nc  *nats.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		nc, err := nats.Connect(url, opts...)
		done <- result{nc, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("connect to nats %s: %w", redactURL(url), r.err)
		}
		return r.nc, nil
	case <-ctx.Done():
		go func() {
			if r := <-done; r.nc != nil {
				r.nc.Close()
			}
		}()
		return nil, fmt.Errorf("connect to nats: %w", ctx.Err())
	}
}

func tlsConfig(c Conn) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("nats tls ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("nats tls ca %s: no certificates found", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" || c.KeyFile != "" {
		if c.CertFile == "" || c.KeyFile == "" {
			return nil, errors.New("nats tls: client certificate and key go together")
		}
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats tls client cert: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// redactURL hides passwords in (comma-separated) server URLs.
func redactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := neturl.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}
