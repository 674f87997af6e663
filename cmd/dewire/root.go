package main

import (
	"errors"
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
	levelSet  bool // --log-level or $DEWIRE_LOG_LEVEL was given
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
			if err := bindEnv(cmd); err != nil {
				return err
			}
			g.levelSet = cmd.Flags().Changed("log-level")
			return g.validate()
		},
	}
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "auto", "log format: auto (console on a terminal, JSON otherwise), console, json")
	root.AddCommand(newRunCmd(g), newWorkerCmd(g), newSetupCmd(g), newReplayCmd(g),
		newNormalizeCmd(g), newTranslateCmd(g), newModelCmd(g), newDeskCmd(g), newVersionCmd())
	root.Args = unknownCommand
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	markUsage(root)
	return root
}

// markUsage makes argument-count mistakes usage errors (exit 2) in every command.
func markUsage(cmd *cobra.Command) {
	cmd.SuggestionsMinimumDistance = 2
	if v := cmd.Args; v != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := v(c, args); err != nil {
				return &usageError{err}
			}
			return nil
		}
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{suggestFlag(c, err)} })
	for _, sub := range cmd.Commands() {
		markUsage(sub)
	}
}

// unknownCommand refuses arguments to a command that only has
// subcommands, suggesting the closest ones.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + quoteOr(s) + "?"
	}
	return errors.New(msg)
}

// suggestFlag adds the closest flag names to an unknown-flag error.
func suggestFlag(cmd *cobra.Command, err error) error {
	var ne *pflag.NotExistError
	if !errors.As(err, &ne) || ne.GetSpecifiedName() == "" {
		return err
	}
	name := ne.GetSpecifiedName()
	var close []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		if d := levenshtein(name, f.Name); d <= 2 || (len(name) >= 3 && strings.HasPrefix(f.Name, name)) {
			close = append(close, "--"+f.Name)
		}
	})
	if len(close) == 0 || len(close) > 4 {
		return err
	}
	return fmt.Errorf("%w; did you mean %s?", err, quoteOr(close))
}

func quoteOr(s []string) string {
	return orList(s)
}

// levenshtein is the edit distance between a and b.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
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
