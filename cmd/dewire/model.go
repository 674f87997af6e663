package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dewire/dewire/pipeline/modelstore"
)

func newModelCmd(_ *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "model",
		Short: "Download and list models for the embedded ct2 engine",
		Args:  unknownCommand,
		RunE: func(*cobra.Command, []string) error {
			return usagef("model: name a subcommand: pull or list")
		},
	}
	var dir string
	var opts modelstore.PullOptions
	pull := &cobra.Command{
		Use:   "pull [de-en]",
		Short: "Download the Argos Translate package for a language pair into the model folder",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pair := "de-en"
			if len(args) == 1 {
				pair = args[0]
			}
			if _, _, err := modelstore.ParsePair(pair); err != nil {
				return usagef("%v", err)
			}
			if err := checkURLs("--index-url", []string{opts.IndexURL}); err != nil {
				return err
			}
			d, err := modelDir(dir)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			bar := newByteBar(cmd.ErrOrStderr())
			opts.Progress = bar.update
			path, err := modelstore.Pull(ctx, d, pair, opts)
			bar.done()
			if errors.Is(err, modelstore.ErrUnreachable) {
				// One line, no stack of wrapped errors: there is simply no network.
				return fmt.Errorf("%v", err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "installed %s\n", path)
			return nil
		},
	}
	pull.Flags().StringVar(&opts.IndexURL, "index-url", modelstore.DefaultIndexURL, "Argos package index")
	pull.Flags().StringVar(&opts.PackageURL, "package-url", "", "download this .argosmodel directly instead of looking it up in the index")
	pull.Flags().StringVar(&opts.SHA256, "sha256", "", "expected SHA-256 of the package")
	list := &cobra.Command{
		Use:   "list",
		Short: "List installed models",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := modelDir(dir)
			if err != nil {
				return err
			}
			pkgs, err := modelstore.List(d)
			if err != nil {
				return err
			}
			if len(pkgs) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no models in %s: run `dewire model pull de-en`\n", d)
				return nil
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "PAIR\tVERSION\tSHA256\tPATH")
			for _, p := range pkgs {
				if p.Err != nil {
					fmt.Fprintf(w, "?\t?\t?\t%s (unreadable: %v)\n", p.Path, p.Err)
					continue
				}
				sum := p.SHA256
				if len(sum) > 12 {
					sum = sum[:12]
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p.Metadata.Pair(), p.Metadata.PackageVersion, sum, p.Path)
			}
			return w.Flush()
		},
	}
	cmd.PersistentFlags().StringVar(&dir, "model-dir", "", "model folder (default $DEWIRE_MODEL_DIR or the user cache folder)")
	cmd.AddCommand(pull, list)
	return cmd
}

func modelDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	return modelstore.Dir()
}

// byteBar draws download progress on a terminal.
type byteBar struct {
	w    io.Writer
	on   bool
	last time.Time
}

func newByteBar(w io.Writer) *byteBar {
	on := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		on = true
	}
	return &byteBar{w: w, on: on}
}

func (b *byteBar) update(done, total int64) {
	if !b.on || time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last = time.Now()
	if total <= 0 {
		fmt.Fprintf(b.w, "\r%6.1f MiB", float64(done)/(1<<20))
		return
	}
	const width = 30
	n := int(done * width / total)
	fmt.Fprintf(b.w, "\r[%s%s] %6.1f / %.1f MiB", repeat('#', n), repeat('.', width-n), float64(done)/(1<<20), float64(total)/(1<<20))
}

func (b *byteBar) done() {
	if b.on {
		fmt.Fprint(b.w, "\r\033[K")
	}
}

func repeat(c byte, n int) string {
	if n < 0 {
		n = 0
	}
	out := make([]byte, n)
	for i := range out {
		out[i] = c
	}
	return string(out)
}
