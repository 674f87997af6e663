package chaos

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServeNATS runs one nats-server with JetStream on file storage until
// SIGTERM or SIGINT; the chaos command re-executes itself with this as a
// hidden subcommand so every server is its own OS process that can be
// killed, stopped and restarted. Flags: --name, --port, --store, and for a
// cluster --cluster-name, --cluster-port, --routes (comma-separated
// nats-route:// URLs).
func ServeNATS(args []string) error {
	fs := flag.NewFlagSet("nats-server", flag.ContinueOnError)
	name := fs.String("name", "chaos-nats", "server name")
	port := fs.Int("port", 4222, "client port on 127.0.0.1")
	store := fs.String("store", "", "JetStream store folder")
	clusterName := fs.String("cluster-name", "", "cluster name (empty: no cluster)")
	clusterPort := fs.Int("cluster-port", 0, "route port on 127.0.0.1")
	routes := fs.String("routes", "", "comma-separated route URLs")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("nats-server: %w", err)
	}
	if *store == "" {
		return errors.New("nats-server: --store is required")
	}
	opts := &server.Options{
		ServerName: *name,
		Host:       "127.0.0.1",
		Port:       *port,
		JetStream:  true,
		StoreDir:   *store,
		NoSigs:     true,
		Logtime:    true,
		MaxPayload: 8 << 20,
	}
	if *clusterName != "" {
		opts.Cluster = server.ClusterOpts{Name: *clusterName, Host: "127.0.0.1", Port: *clusterPort}
		opts.Routes = server.RoutesFromStr(*routes)
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("nats-server %s: %w", *name, err)
	}
	s.ConfigureLogger()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		s.Shutdown()
	}()
	if err := server.Run(s); err != nil {
		return fmt.Errorf("nats-server %s: %w", *name, err)
	}
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("nats-server %s: not ready after 30s", *name)
	}
	s.WaitForShutdown()
	return nil
}

// natsNode is one server of the chaos topology.
type natsNode struct {
	name        string
	port        int
	clusterPort int
	proc        *proc
}

func (n natsNode) url() string { return "nats://127.0.0.1:" + strconv.Itoa(n.port) }

// natsArgs are the ServeNATS flags for node i of nodes.
func natsArgs(nodes []natsNode, i int, storeDir string) []string {
	args := []string{"--name", nodes[i].name, "--port", strconv.Itoa(nodes[i].port), "--store", storeDir}
	if len(nodes) > 1 {
		var routes []string
		for _, n := range nodes {
			routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(n.clusterPort))
		}
		args = append(args, "--cluster-name", "chaos", "--cluster-port", strconv.Itoa(nodes[i].clusterPort), "--routes", strings.Join(routes, ","))
	}
	return args
}

func clientURLs(nodes []natsNode) string {
	var urls []string
	for _, n := range nodes {
		urls = append(urls, n.url())
	}
	return strings.Join(urls, ",")
}
