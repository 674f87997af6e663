// Command dewire-chaos tries to break dewire's delivery promises: it runs
// nats-server and every worker kind as separate processes, loads them with
// German articles through HTTP and a watched folder while killing and
// restarting them, and audits the sink for lost and duplicated records. It
// exits 1 when a record was lost or duplicated, 2 on bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dewire/dewire/internal/chaos"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "nats-server" {
		// Hidden: one nats-server process of the chaos topology.
		if err := chaos.ServeNATS(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run())
}

func run() int {
	fs := flag.NewFlagSet("dewire-chaos", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: dewire-chaos [--cluster] [--articles N] [--kills N] [--restarts N] [--short] [--seed S] [--dewire PATH] [--keep DIR]")
		fs.PrintDefaults()
	}
	short := fs.Bool("short", false, "the short run CI uses (fewer articles, kills and shorter outages)")
	cluster := fs.Bool("cluster", false, "three nats-servers with routes; also kill and stop stream leaders")
	articles := fs.Int("articles", 0, "items to submit (default 1000, 150 with --short)")
	kills := fs.Int("kills", 0, "worker SIGKILLs (default 24, 10 with --short)")
	restarts := fs.Int("restarts", 0, "nats-server restarts, or node kills and stops in a cluster (default 3, 2 with --short)")
	outage := fs.Duration("outage", 0, "how long a nats-server stays down (default 12s, 7s with --short)")
	seed := fs.Int64("seed", 1, "seed of the load, the faults and the engine fake")
	dewire := fs.String("dewire", "", "dewire binary to test (default: go build ./cmd/dewire)")
	keep := fs.String("keep", "", "write everything under this folder and keep it")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "dewire-chaos: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg := chaos.DefaultConfig(*short)
	cfg.Cluster, cfg.Seed = *cluster, *seed
	if *articles > 0 {
		cfg.Articles = *articles
	}
	if *kills > 0 {
		cfg.Kills = *kills
	}
	if *restarts > 0 {
		cfg.Restarts = *restarts
	}
	if *outage > 0 {
		cfg.Outage = *outage
	}
	if *keep != "" {
		abs, err := filepath.Abs(*keep)
		if err != nil {
			fmt.Fprintf(os.Stderr, "dewire-chaos: --keep: %v\n", err)
			return 2
		}
		cfg.WorkDir, cfg.Keep = abs, true
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "dewire-chaos: %v\n", err)
		return 1
	}
	cfg.NATSCommand = []string{self, "nats-server"}
	if *dewire == "" {
		if cfg.Root, err = chaos.FindRoot(); err != nil {
			fmt.Fprintf(os.Stderr, "dewire-chaos: %v (or give --dewire)\n", err)
			return 1
		}
	} else if cfg.Dewire, err = filepath.Abs(*dewire); err != nil {
		fmt.Fprintf(os.Stderr, "dewire-chaos: --dewire: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	rep, err := chaos.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "dewire-chaos: %v\n", err)
		return 1
	}
	rep.WriteTo(os.Stdout)
	fmt.Printf("took %s\n", time.Since(start).Round(time.Second))
	if rep.Failed() {
		fmt.Println("FAIL: records were lost or duplicated")
		return 1
	}
	fmt.Println("PASS")
	return 0
}
