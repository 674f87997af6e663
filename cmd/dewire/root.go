package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type globalFlags struct {
	logLevel  string
	logFormat string
}

func newRoot() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "dewire",
		Short:         "German-to-English news translation pipeline on NATS JetStream",
		Long:          "dewire ingests German news articles, repairs quotation marks, punctuation and names,\ntranslates them to English, repairs the English, and writes clean bilingual records.\n\nEvery flag can also be set with an environment variable: --nats-url is DEWIRE_NATS_URL.",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if os.Getenv("GOGC") == "" {
				// Records are short-lived and memory is plentiful: collect less often.
				debug.SetGCPercent(200)
			}
			return bindEnv(cmd)
		},
	}
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "auto", "log format: auto (console on a terminal, JSON otherwise), console, json")
	root.AddCommand(newRunCmd(g), newWorkerCmd(g), newSetupCmd(g), newReplayCmd(g),
		newNormalizeCmd(g), newTranslateCmd(g), newModelCmd(g), newDeskCmd(g), newVersionCmd())
	root.Args = cobra.NoArgs
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	markUsage(root)
	return root
}

// markUsage makes argument-count mistakes usage errors (exit 2) in every command.
func markUsage(cmd *cobra.Command) {
	if v := cmd.Args; v != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := v(c, args); err != nil {
				return &usageError{err}
			}
			return nil
		}
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	for _, sub := range cmd.Commands() {
		markUsage(sub)
	}
}

// envName is the environment variable of a flag: --nats-url → DEWIRE_NATS_URL.
func envName(flag string) string {
	return "DEWIRE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// bindEnv sets every flag the command line left alone from its DEWIRE_*
// variable, so containers can be configured by environment alone.
func bindEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok {
			return
		}
		if serr := cmd.Flags().Set(f.Name, v); serr != nil {
			err = usagef("%s: %v", envName(f.Name), serr)
		}
	})
	return err
}

// envHelp appends the variable name to every flag's usage line.
func envHelp(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if !strings.Contains(f.Usage, "$DEWIRE_") {
			f.Usage += fmt.Sprintf(" ($%s)", envName(f.Name))
		}
	})
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "dewire %s\n", version)
			return nil
		},
	}
}
