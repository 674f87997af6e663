package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/intake"
	"github.com/dewire/dewire/pipeline/mt"
	"github.com/dewire/dewire/pipeline/normalize"
	"github.com/dewire/dewire/workers/translate"
)

// readOne reads the single article of a file or stdin, without the language gate.
func readOne(ctx context.Context, cmd *cobra.Command, path string) (*article.Article, error) {
	var r io.Reader = cmd.InOrStdin()
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var got []intake.Item
	err := (&intake.Reader{}).Read(ctx, r, intake.Origin{Path: path}, func(it intake.Item) error {
		got = append(got, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(got) != 1 {
		return nil, fmt.Errorf("%s: holds %d articles; give one article (plain text or one JSON object)", path, len(got))
	}
	if rej := got[0].Reject; rej != nil {
		return nil, fmt.Errorf("%s: %s: %s", path, rej.Reject.Code, rej.Reject.Reason)
	}
	a := got[0].Article
	a.Rev = 1
	return a, nil
}

func fileArg(args []string) string {
	if len(args) == 0 {
		return "-"
	}
	return args[0]
}

func newNormalizeCmd(_ *globalFlags) *cobra.Command {
	var lang string
	var asJSON bool
	var nf normFlags
	var maxBytes, maxParagraphs int
	cmd := &cobra.Command{
		Use:   "normalize [--lang de|en] [--style FILE] [--json] [--max-bytes N] [--max-paragraphs N] [FILE|-]...",
		Short: "Normalize articles offline and print them",
		Long: `Normalize repairs quotation marks, punctuation, debris and names in articles
(plain text: title line, blank line, paragraphs separated by blank lines; JSON; or
JSON Lines, one article per line) read from the files given, or stdin, and prints
each as soon as it is done: in the plain layout, so paragraph n of the output is
paragraph n of the input but for paragraphs removed as page debris, with a line
holding one form feed between two articles; or, with --json, one record per line
with every edit and flag. An offline document may have thousands of paragraphs;
--max-bytes and --max-paragraphs set limits, and an article over them is reported
and skipped while the others are printed.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if lang != "de" && lang != "en" {
				return usagef("--lang %q: want de or en", lang)
			}
			if maxBytes < 0 || maxParagraphs < 0 {
				return usagef("--max-bytes and --max-paragraphs must not be negative")
			}
			n, err := nf.normalizer(lang)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			b := &normalize.Batch{Normalizer: n, JSON: asJSON, Errors: cmd.ErrOrStderr(),
				Limits: intake.Limits{MaxBytes: maxBytes, MaxParagraphs: maxParagraphs}}
			if len(args) == 0 {
				args = []string{"-"}
			}
			for _, path := range args {
				if err := normalizeFile(ctx, cmd, b, path); err != nil {
					return err
				}
			}
			return b.Err()
		},
	}
	cmd.Flags().StringVar(&lang, "lang", "de", "language of the articles: de or en")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one record per line, with edits and flags")
	cmd.Flags().IntVar(&maxBytes, "max-bytes", 0, "largest article accepted, in bytes (0: 256 MiB)")
	cmd.Flags().IntVar(&maxParagraphs, "max-paragraphs", 0, "most paragraphs accepted in one article (0: no practical limit)")
	nf.register(cmd.Flags())
	envHelp(cmd.Flags())
	return cmd
}

// normalizeFile runs b over one file, or stdin for "-".
func normalizeFile(ctx context.Context, cmd *cobra.Command, b *normalize.Batch, path string) error {
	var r io.Reader = cmd.InOrStdin()
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	return b.Run(ctx, r, intake.Origin{Path: path}, cmd.OutOrStdout())
}

func newTranslateCmd(g *globalFlags) *cobra.Command {
	var ef engineFlags
	var nf normFlags
	cmd := &cobra.Command{
		Use:   "translate [--engine NAME] [--model PATH] [FILE|-]",
		Short: "Normalize, translate and normalize one article offline; print the bilingual record",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := ef.validate(); err != nil {
				return err
			}
			log, err := newLogger(g)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			de, en, err := nf.normalizers()
			if err != nil {
				return err
			}
			a, err := readOne(ctx, cmd, fileArg(args))
			if err != nil {
				return err
			}
			eng, err := translate.OpenEngine(ctx, ef.config(), log)
			if err != nil {
				return startupError(err)
			}
			tr := translate.NewTranslator(eng, mt.NewMemoryTM())
			de.Apply(a, nil)
			if err := tr.Translate(ctx, a); err != nil {
				if errors.Is(err, mt.ErrAuth) {
					return fmt.Errorf("%w (check the engine's key)", err)
				}
				return err
			}
			en.Apply(a, nil)
			return printJSON(cmd.OutOrStdout(), a)
		},
	}
	ef.register(cmd.Flags())
	nf.register(cmd.Flags())
	envHelp(cmd.Flags())
	return cmd
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
