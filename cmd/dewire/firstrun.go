package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/dewire/dewire/pipeline/modelstore"
)

// needsModel says whether --engine auto would find no engine: no model
// given or installed and no service configured.
func (f *runFlags) needsModel() (dir string, ok bool) {
	if name := strings.ToLower(f.eng.engine); name != "auto" && name != "" {
		return "", false
	}
	c := f.eng.config()
	if c.Model != "" || c.DeepLAuthKey != "" || c.LibreTranslateURL != "" || (c.OpenAIURL != "" && c.OpenAIModel != "") {
		return "", false
	}
	dir, err := modelstore.Dir()
	if err != nil {
		return "", false
	}
	if _, installed := modelstore.Installed(dir, "de", "en"); installed {
		return "", false
	}
	return dir, true
}

// firstRunModel offers, on a terminal, to download the default de→en model
// when --engine auto would find no engine, and downloads it without asking
// with --pull-model. Without a terminal, without an answer of yes, or
// without network, it returns nil and the run goes on untranslated with
// the engine's one-line hint. A download that fails its checksum is an error.
func firstRunModel(ctx context.Context, cmd *cobra.Command, f *runFlags, log *zap.Logger) error {
	dir, need := f.needsModel()
	if !need {
		return nil
	}
	stdin, stderr := cmd.InOrStdin(), cmd.ErrOrStderr()
	ask := !f.pullModel
	if ask && !(isTerminal(stdin) && isTerminal(stderr)) {
		return nil
	}
	client := &http.Client{Timeout: 30 * time.Second}
	entries, err := modelstore.FetchIndex(ctx, client, f.modelIndexURL)
	if err != nil {
		return noModel(ctx, log, err)
	}
	entry, err := modelstore.FindPackage(entries, "de", "en")
	if err != nil {
		return noModel(ctx, log, fmt.Errorf("%s: %w", f.modelIndexURL, err))
	}
	link := packageLink(entry)
	if link == "" {
		return noModel(ctx, log, fmt.Errorf("%s: %s has no http(s) link", f.modelIndexURL, entry.Code))
	}
	size := contentLength(ctx, client, link)
	if ask {
		fmt.Fprintf(stderr, "No translation engine is set up, so this run would write no English.\nDownload the German→English model %s (%s) from %s into %s? [Y/n] ",
			entry.PackageVersion, sizeText(size), hostOf(link), dir)
		yes, err := readYes(ctx, stdin)
		if err != nil {
			return err
		}
		if !yes {
			fmt.Fprintln(stderr, "Not downloading; `dewire model pull de-en` does it later.")
			return nil
		}
	}
	want := entry.SHA256
	if want == "" {
		want = strings.TrimPrefix(entry.Checksum, "sha256:")
	}
	bar := newByteBar(stderr)
	path, err := modelstore.Pull(ctx, dir, "de-en", modelstore.PullOptions{PackageURL: link, SHA256: want, Progress: bar.update})
	bar.done()
	if err != nil {
		if errors.Is(err, modelstore.ErrUnreachable) {
			return noModel(ctx, log, err)
		}
		return err
	}
	sum := readSum(path)
	verified := "recorded"
	if want != "" {
		verified = "verified"
	}
	fmt.Fprintf(stderr, "installed %s (sha256 %s %s)\n", path, sum, verified)
	return nil
}

// noModel logs why no model was downloaded; only an interrupt stops the run.
func noModel(ctx context.Context, log *zap.Logger, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	log.Warn("no model downloaded", zap.String("reason", oneLine(err)))
	return nil
}

func oneLine(err error) string {
	var ue *modelstore.UnreachableError
	if errors.As(err, &ue) {
		return fmt.Sprintf("cannot reach %s: %v", ue.Host, ue.Err)
	}
	return err.Error()
}

func packageLink(e modelstore.IndexEntry) string {
	for _, l := range e.Links {
		if u, err := url.Parse(l); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			return l
		}
	}
	return ""
}

func hostOf(link string) string {
	if u, err := url.Parse(link); err == nil {
		return u.Host
	}
	return link
}

// contentLength asks the server for the package's size; -1 when it does not say.
func contentLength(ctx context.Context, client *http.Client, link string) int64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, link, nil)
	if err != nil {
		return -1
	}
	resp, err := client.Do(req)
	if err != nil {
		return -1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return -1
	}
	return resp.ContentLength
}

func sizeText(n int64) string {
	switch {
	case n < 0:
		return "size unknown"
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	default:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
}

// readYes reads one answer line; an empty answer is yes.
func readYes(ctx context.Context, r io.Reader) (bool, error) {
	type answer struct {
		line string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		var b strings.Builder
		one := make([]byte, 1)
		for {
			n, err := r.Read(one)
			if n == 1 {
				if one[0] == '\n' || one[0] == '\r' {
					break
				}
				b.WriteByte(one[0])
			}
			if err != nil {
				got <- answer{b.String(), err}
				return
			}
		}
		got <- answer{b.String(), nil}
	}()
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case a := <-got:
		if a.err != nil && !errors.Is(a.err, io.EOF) {
			return false, fmt.Errorf("read answer: %w", a.err)
		}
		if a.err != nil && a.line == "" {
			return false, nil // no answer: do not download
		}
		switch strings.ToLower(strings.TrimSpace(a.line)) {
		case "", "y", "yes", "j", "ja":
			return true, nil
		}
		return false, nil
	}
}

func readSum(path string) string {
	b, err := os.ReadFile(path + ".sha256")
	if err != nil {
		return "?"
	}
	sum, _, _ := strings.Cut(string(b), " ")
	if len(sum) > 12 {
		sum = sum[:12]
	}
	return sum
}
