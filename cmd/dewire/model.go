package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

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
			if opts.PackageURL != "" {
				if err := checkURLs("--package-url", []string{opts.PackageURL}); err != nil {
					return err
				}
			}
			if _, err := hex.DecodeString(opts.SHA256); err != nil || (opts.SHA256 != "" && len(opts.SHA256) != 64) {
				return usagef("--sha256 %q: want 64 hex digits", opts.SHA256)
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

// byteBar draws download progress on a terminal: bytes, total, rate and ETA.
type byteBar struct {
	w   io.Writer
	on  bool
	p   *mpb.Progress
	bar *mpb.Bar
}

func newByteBar(w io.Writer) *byteBar {
	return &byteBar{w: w, on: isTerminal(w)}
}

func (b *byteBar) update(done, total int64) {
	if !b.on {
		return
	}
	if b.bar == nil {
		b.p = mpb.New(mpb.WithOutput(b.w), mpb.WithWidth(30), mpb.WithRefreshRate(120*time.Millisecond))
		b.bar = b.p.New(max(total, 0), mpb.BarStyle().Lbound("[").Filler("#").Tip("#").Padding(".").Rbound("]"),
			mpb.PrependDecorators(decor.Counters(decor.SizeB1024(0), "% .1f / % .1f", decor.WCSyncSpaceR)),
			mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncSpace), decor.Name(" · ETA "), decor.AverageETA(decor.ET_STYLE_GO)),
		)
	}
	b.bar.SetCurrent(done)
}

// done leaves the bar's final state on screen.
func (b *byteBar) done() {
	if b.bar != nil {
		b.bar.SetTotal(-1, true)
		b.p.Wait()
	}
}
