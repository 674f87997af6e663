package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/dewire/dewire/workers/desk"
	"github.com/dewire/dewire/workers/worker"
)

// deskFlags say who may act at the desk: editors come from a file or the
// environment, never from a flag value.
type deskFlags struct {
	editorsFile string
}

func (d *deskFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&d.editorsFile, "desk-editors-file", "", "file of desk editors, one name:token a line; $DEWIRE_DESK_TOKEN adds one editor named \"editor\"")
}

func (d *deskFlags) editors() (map[string]string, error) {
	out := map[string]string{}
	if d.editorsFile != "" {
		f, err := os.Open(d.editorsFile)
		if err != nil {
			return nil, fmt.Errorf("desk editors: %w", err)
		}
		defer f.Close()
		if out, err = desk.ParseEditors(f); err != nil {
			return nil, fmt.Errorf("%s: %w", d.editorsFile, err)
		}
	}
	if tok := strings.TrimSpace(os.Getenv("DEWIRE_DESK_TOKEN")); tok != "" {
		more, err := desk.ParseEditors(strings.NewReader(tok))
		if err != nil {
			return nil, fmt.Errorf("$DEWIRE_DESK_TOKEN: %w", err)
		}
		for t, n := range more {
			out[t] = n
		}
	}
	return out, nil
}

// start registers the desk's pages on mux and follows the clean stream until ctx ends.
func (d *deskFlags) start(ctx context.Context, js jetstream.JetStream, mux *http.ServeMux, log *zap.Logger) error {
	editors, err := d.editors()
	if err != nil {
		return usagef("%v", err)
	}
	dk, err := desk.New(js, desk.Options{Editors: editors, Log: log})
	if err != nil {
		return err
	}
	dk.Register(mux)
	go func() {
		if err := dk.Run(ctx); err != nil {
			log.Error("desk", zap.Error(err))
		}
	}()
	if len(editors) == 0 {
		log.Info("desk is read-only: set $DEWIRE_DESK_TOKEN or --desk-editors-file to allow desk actions")
	}
	return nil
}

func newDeskCmd(g *globalFlags) *cobra.Command {
	var n natsFlags
	var df deskFlags
	var addr string
	cmd := &cobra.Command{
		Use:   "desk [flags]",
		Short: "Serve the news desk's web view, Atom feed and JSON API over the clean stream",
		Long: `Desk serves a web view of the clean articles of any dewire deployment
(--nats-url and the usual NATS flags; or 'dewire run --http-addr', which serves
the same pages): the list, live by server-sent events, German and English side
by side with every edit and flag, /feed.atom and /api/articles. It is
read-only without credentials; desk actions (flag reviewed, names, reprocess)
need an editor token.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log, err := newLogger(g)
			if err != nil {
				return err
			}
			defer log.Sync()
			nc, js, err := n.connect(ctx, "dewire-desk", log)
			if err != nil {
				return err
			}
			defer nc.Close()
			probes := worker.NewProbes()
			if err := df.start(ctx, js, probes.Mux, log); err != nil {
				return err
			}
			if err := probes.Serve(ctx, addr, log); err != nil {
				return startupError(err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "dewire desk: http://%s/\n", addr)
			<-ctx.Done()
			return nil
		},
	}
	fs := cmd.Flags()
	n.register(fs)
	df.register(fs)
	fs.StringVar(&addr, "http-addr", "127.0.0.1:8080", "serve the desk on this address")
	envHelp(fs)
	return cmd
}
