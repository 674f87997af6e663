package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dewire/dewire/workers/bus"
	"github.com/dewire/dewire/workers/stage"
)

// setupTimeout bounds how long `dewire setup` waits for a cluster that
// cannot place the streams yet (a peer still starting, a leader election).
const setupTimeout = 2 * time.Minute

func newSetupCmd(g *globalFlags) *cobra.Command {
	var nf natsFlags
	var tf topoFlags
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Create or update the streams, consumers and KV buckets on a NATS server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(g)
			if err != nil {
				return err
			}
			topo, err := tf.topology()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			nc, js, err := nf.connect(ctx, "dewire-setup", log)
			if err != nil {
				return err
			}
			defer nc.Close()
			// Set-up waits for a cluster that is still forming, not for ever.
			ectx, cancel := context.WithTimeout(ctx, setupTimeout)
			defer cancel()
			if err := topo.Ensure(ectx, js); err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "STREAM\tSUBJECTS\tRETENTION\tREPLICAS")
			for _, s := range topo.Streams() {
				fmt.Fprintf(w, "%s\t%v\t%s\t%d\n", s.Name, s.Subjects, s.Retention, s.Replicas)
			}
			fmt.Fprintln(w, "\nCONSUMER\tSTREAM")
			for _, c := range topo.Consumers() {
				fmt.Fprintf(w, "%s\t%s\n", c.Durable, c.Stream)
			}
			for _, c := range topo.Consumers() {
				fmt.Fprintf(w, "%s\t%s\n", bus.MoverConsumer(c.Durable), bus.StreamAdvisories)
			}
			fmt.Fprintf(w, "\nKV\t%s, %s\n", bus.BucketRevisions, bus.BucketMemory)
			return w.Flush()
		},
	}
	nf.register(cmd.Flags())
	tf.register(cmd.Flags())
	envHelp(cmd.Flags())
	return cmd
}

func newReplayCmd(g *globalFlags) *cobra.Command {
	var nf natsFlags
	var filter stage.ReplayFilter
	var dryRun bool
	var local runFlags
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Send dead-lettered messages back to the stage that gave up on them",
		Long: `Replay reads ARTICLES_DLQ and republishes each message (or those matching --stage
and --id) to the subject it was taken from, as a fresh delivery, then removes it
from the DLQ. Use --dry-run to list what would be sent.

With --data it works on the store of 'dewire run' instead of a NATS server:
it starts the local pipeline, replays, and waits until the replayed articles
reach the sink or the DLQ again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if local.data != "" && !dryRun {
				return replayLocal(cmd, g, &local, filter)
			}
			log, err := newLogger(g)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			nc, js, err := nf.connect(ctx, "dewire-replay", log)
			if err != nil {
				return err
			}
			defer nc.Close()
			got, err := stage.Replay(ctx, js, filter, dryRun)
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SEQ\tID\tSTAGE\tBACK TO\tREASON")
			for _, r := range got {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", r.Seq, r.ID, r.Stage, r.Subject, r.Reason)
			}
			w.Flush()
			verb := "replayed"
			if dryRun {
				verb = "would replay"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %d message(s)\n", verb, len(got))
			return err
		},
	}
	nf.register(cmd.Flags())
	cmd.Flags().StringVar(&filter.Stage, "stage", "", "only messages this stage gave up on (normalize-de, translate, normalize-en, sink)")
	cmd.Flags().StringVar(&filter.ID, "id", "", "only this article id")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list, do not send")
	cmd.Flags().StringVar(&local.data, "data", "", "replay into the store of 'dewire run' in this folder and process the replayed articles")
	cmd.Flags().StringVar(&local.out, "out", "dewire-out", "with --data: the sink folder")
	cmd.Flags().IntVar(&local.concurrency, "concurrency", 32, "with --data: articles in flight per stage")
	local.norm.register(cmd.Flags())
	local.eng.register(cmd.Flags())
	local.sinks.register(cmd.Flags())
	envHelp(cmd.Flags())
	return cmd
}
