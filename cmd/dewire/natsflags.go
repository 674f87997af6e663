package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/dewire/dewire/workers/bus"
)

// natsFlags say how to reach NATS. Passwords and tokens come from the
// environment or files only.
type natsFlags struct {
	url, creds, nkey, user, ca, cert, key string
	passwordFile, tokenFile               string
	inboxPrefix                           string
}

func (n *natsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&n.url, "nats-url", nats.DefaultURL, "NATS server URL(s), comma-separated (also --nats)")
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "nats" {
			name = "nats-url"
		}
		return pflag.NormalizedName(name)
	})
	fs.StringVar(&n.creds, "nats-creds", "", "NATS credentials file (JWT and nkey seed)")
	fs.StringVar(&n.nkey, "nats-nkey", "", "NATS nkey seed file")
	fs.StringVar(&n.user, "nats-user", "", "NATS user name; the password comes from $DEWIRE_NATS_PASSWORD or --nats-password-file")
	fs.StringVar(&n.passwordFile, "nats-password-file", "", "file holding the NATS password")
	fs.StringVar(&n.tokenFile, "nats-token-file", "", "file holding a NATS token ($DEWIRE_NATS_TOKEN also works)")
	fs.StringVar(&n.ca, "nats-tls-ca", "", "TLS: CA certificate file to trust")
	fs.StringVar(&n.cert, "nats-tls-cert", "", "TLS: client certificate file")
	fs.StringVar(&n.key, "nats-tls-key", "", "TLS: client key file")
	fs.StringVar(&n.inboxPrefix, "nats-inbox-prefix", "", "reply inbox prefix; a role's account may allow only _INBOX.<role> (workers default to _INBOX.<kind>)")
}

func secret(env, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read secret file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return os.Getenv(env), nil
}

func (n *natsFlags) conn(name string) (bus.Conn, error) {
	pw, err := secret("DEWIRE_NATS_PASSWORD", n.passwordFile)
	if err != nil {
		return bus.Conn{}, err
	}
	tok, err := secret("DEWIRE_NATS_TOKEN", n.tokenFile)
	if err != nil {
		return bus.Conn{}, err
	}
	return bus.Conn{URL: n.url, Name: name, CredsFile: n.creds, NKeyFile: n.nkey, User: n.user, Password: pw, Token: tok,
		CAFile: n.ca, CertFile: n.cert, KeyFile: n.key, InboxPrefix: n.inboxPrefix}, nil
}

// connect dials NATS and returns a JetStream context.
func (n *natsFlags) connect(ctx context.Context, name string, log *zap.Logger) (*nats.Conn, jetstream.JetStream, error) {
	c, err := n.conn(name)
	if err != nil {
		return nil, nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	nc, err := bus.Connect(cctx, c, log)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// topoFlags tune the topology that setup, run and every worker ensure.
type topoFlags struct {
	replicas        int
	memory          bool
	maxDeliver      int
	ackWait         time.Duration
	duplicateWindow time.Duration
	cleanMaxAge     time.Duration
	maxAckPending   int
}

func (t *topoFlags) register(fs *pflag.FlagSet) {
	d := bus.DefaultTopology()
	fs.IntVar(&t.replicas, "replicas", d.Replicas, "stream replicas (3 in a cluster)")
	fs.BoolVar(&t.memory, "memory-storage", false, "keep streams in memory instead of files (tests only: loses everything on restart)")
	fs.IntVar(&t.maxDeliver, "max-deliver", d.MaxDeliver, "deliveries before a message is dead-lettered")
	fs.DurationVar(&t.ackWait, "ack-wait", d.AckWait, "how long a worker may hold a message between heartbeats")
	fs.DurationVar(&t.duplicateWindow, "duplicate-window", d.DuplicateWindow, "how long re-publishes are recognised as duplicates (must exceed the redelivery horizon)")
	fs.DurationVar(&t.cleanMaxAge, "clean-max-age", d.CleanMaxAge, "how long the clean feed keeps records")
	fs.IntVar(&t.maxAckPending, "max-ack-pending", d.MaxAckPending, "messages in flight per consumer across all replicas (replicas × concurrency)")
}

func (t *topoFlags) topology() (bus.Topology, error) {
	topo := bus.DefaultTopology()
	topo.Replicas, topo.MaxDeliver, topo.AckWait = t.replicas, t.maxDeliver, t.ackWait
	topo.DuplicateWindow, topo.CleanMaxAge, topo.MaxAckPending = t.duplicateWindow, t.cleanMaxAge, t.maxAckPending
	if t.memory {
		topo.Storage = jetstream.MemoryStorage
	}
	switch {
	case topo.Replicas < 1 || topo.Replicas > 5:
		return topo, usagef("--replicas %d: want 1 to 5", topo.Replicas)
	case topo.MaxDeliver < 1:
		return topo, usagef("--max-deliver %d: want at least 1", topo.MaxDeliver)
	case topo.AckWait < time.Second:
		return topo, usagef("--ack-wait %s: want at least 1s", topo.AckWait)
	}
	// The longest redelivery horizon is AckWait per delivery plus the backoff between them.
	horizon := time.Duration(topo.MaxDeliver) * (topo.AckWait + 5*time.Minute)
	if topo.DuplicateWindow < horizon {
		return topo, usagef("--duplicate-window %s is shorter than the redelivery horizon %s (max-deliver × (ack-wait + 5m backoff)): a re-publish after a crash could be taken for new", topo.DuplicateWindow, horizon)
	}
	return topo, nil
}
