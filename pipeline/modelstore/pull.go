package modelstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultIndexURL is the Argos Translate package index.
const DefaultIndexURL = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json"

// More sentinel errors of Pull.
var (
	// ErrUnreachable reports that a host could not be contacted at all.
	ErrUnreachable = errors.New("host unreachable")
	// ErrNotInIndex reports that the index lists no package for the pair.
	ErrNotInIndex = errors.New("no package for this language pair in the index")
	// ErrChecksum reports a download whose SHA-256 differs from the index's.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrHTTP reports a server that answered with a status other than 200.
	ErrHTTP = errors.New("unexpected HTTP status")
)

const (
	// MaxPackageSize bounds a downloaded package.
	MaxPackageSize = 8 << 30
	maxIndexSize   = 32 << 20
)

// PullOptions configure Pull; the zero value uses the public index.
type PullOptions struct {
	// IndexURL is the package index; DefaultIndexURL when empty.
	IndexURL string
	// PackageURL, when set, is downloaded directly and the index is not read.
	PackageURL string
	// SHA256, when set, is the expected hex checksum of the package; it
	// overrides any checksum the index gives.
	SHA256 string
	// Client makes the requests; http.DefaultClient when nil.
	Client *http.Client
	// Progress, when set, is called as the package downloads with the bytes
	// written so far and the total (-1 when the server does not say).
	Progress func(done, total int64)
}

// IndexEntry is one package in the Argos package index.
type IndexEntry struct {
	Code           string   `json:"code"`
	Type           string   `json:"type,omitempty"`
	PackageVersion string   `json:"package_version"`
	ArgosVersion   string   `json:"argos_version"`
	FromCode       string   `json:"from_code"`
	FromName       string   `json:"from_name"`
	ToCode         string   `json:"to_code"`
	ToName         string   `json:"to_name"`
	Links          []string `json:"links"`
	// SHA256 and Checksum are optional; Checksum may carry a "sha256:" prefix.
	SHA256   string `json:"sha256,omitempty"`
	Checksum string `json:"checksum,omitempty"`
}

// UnreachableError is the one-line error Pull returns when a host cannot be
// contacted; errors.Is(err, ErrUnreachable) holds for it.
type UnreachableError struct {
	Host string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("model pull: cannot reach %s: %v (no network? download the .argosmodel by hand and pass --model FILE)", e.Host, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Is makes the error match ErrUnreachable.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

var langCode = regexp.MustCompile(`^[a-z]{2,3}(_[A-Za-z]+)?$`)

// ParsePair splits "de-en" into its two language codes.
func ParsePair(pair string) (from, to string, err error) {
	from, to, ok := strings.Cut(pair, "-")
	if !ok || !langCode.MatchString(from) || !langCode.MatchString(to) {
		return "", "", fmt.Errorf("language pair %q: want the form de-en", pair)
	}
	return from, to, nil
}

// Pull downloads the package for pair (for example "de-en") into dir and
// returns its path. The file is written under a temporary name, its SHA-256
// checked against the index when the index has one and recorded beside it
// as FILE.sha256, and it must open as a package for that pair before it is
// renamed into place.
func Pull(ctx context.Context, dir, pair string, opts PullOptions) (string, error) {
	from, to, err := ParsePair(pair)
	if err != nil {
		return "", fmt.Errorf("model pull: %w", err)
	}
	client := opts.Client
	if client == nil {
		client = http.DefaultClient
	}
	pkgURL, wantSum := opts.PackageURL, opts.SHA256
	if pkgURL == "" {
		indexURL := opts.IndexURL
		if indexURL == "" {
			indexURL = DefaultIndexURL
		}
		entries, err := FetchIndex(ctx, client, indexURL)
		if err != nil {
			return "", err
		}
		entry, err := FindPackage(entries, from, to)
		if err != nil {
			return "", fmt.Errorf("model pull: %s: %w", indexURL, err)
		}
		if pkgURL, err = entry.downloadURL(); err != nil {
			return "", fmt.Errorf("model pull: %s: %w", entry.Code, err)
		}
		if wantSum == "" {
			wantSum = entry.checksum()
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("model pull: %w", err)
	}
	tmp, gotSum, err := download(ctx, client, pkgURL, dir, opts.Progress)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp) // no-op once renamed
	if wantSum != "" && !strings.EqualFold(wantSum, gotSum) {
		return "", fmt.Errorf("model pull: %s: %w: got sha256 %s, want %s", pkgURL, ErrChecksum, gotSum, wantSum)
	}
	p, err := OpenPackage(tmp)
	if err != nil {
		return "", fmt.Errorf("model pull: %s: %w", pkgURL, err)
	}
	err = p.CheckPair(from, to)
	p.Close()
	if err != nil {
		return "", fmt.Errorf("model pull: %s: %w", pkgURL, err)
	}
	final := filepath.Join(dir, packageFileName(pkgURL, from, to))
	if err := writeFileAtomic(final+".sha256", []byte(gotSum+"  "+filepath.Base(final)+"\n")); err != nil {
		return "", fmt.Errorf("model pull: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("model pull: %w", err)
	}
	return final, nil
}

// FetchIndex downloads and decodes the package index at indexURL.
func FetchIndex(ctx context.Context, client *http.Client, indexURL string) ([]IndexEntry, error) {
	resp, err := get(ctx, client, indexURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxIndexSize+1))
	if err != nil {
		return nil, fmt.Errorf("model pull: read index %s: %w", indexURL, err)
	}
	if len(b) > maxIndexSize {
		return nil, fmt.Errorf("model pull: index %s: %w", indexURL, ErrTooLarge)
	}
	var entries []IndexEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("model pull: index %s is not a package list: %w", indexURL, err)
	}
	return entries, nil
}

// FindPackage picks the newest translation package from→to in the index.
func FindPackage(entries []IndexEntry, from, to string) (IndexEntry, error) {
	code := "translate-" + from + "_" + to
	var best *IndexEntry
	for i := range entries {
		e := &entries[i]
		if e.Type != "" && e.Type != "translate" {
			continue
		}
		if e.Code != code && (e.Code != "" || e.FromCode != from || e.ToCode != to) {
			continue
		}
		if best == nil || compareVersions(e.PackageVersion, best.PackageVersion) > 0 {
			best = e
		}
	}
	if best == nil {
		return IndexEntry{}, fmt.Errorf("%w: %s", ErrNotInIndex, code)
	}
	return *best, nil
}

func (e IndexEntry) downloadURL() (string, error) {
	for _, l := range e.Links {
		if u, err := url.Parse(l); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			return l, nil
		}
	}
	return "", fmt.Errorf("%w: no http(s) link among %q", ErrNotInIndex, e.Links)
}

func (e IndexEntry) checksum() string {
	if e.SHA256 != "" {
		return e.SHA256
	}
	return strings.TrimPrefix(e.Checksum, "sha256:")
}

// get issues a GET and turns transport failures into UnreachableError.
func get(ctx context.Context, client *http.Client, rawURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("model pull: %w", err)
	}
	req.Header.Set("User-Agent", "dewire-modelstore")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("model pull: %w", ctx.Err())
		}
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, &UnreachableError{Host: req.URL.Host, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("model pull: GET %s: %w: %s", rawURL, ErrHTTP, resp.Status)
	}
	return resp, nil
}

// download writes rawURL to a temporary file in dir and returns its name and
// hex SHA-256.
func download(ctx context.Context, client *http.Client, rawURL, dir string, progress func(done, total int64)) (string, string, error) {
	resp, err := get(ctx, client, rawURL)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	total := resp.ContentLength
	if total > MaxPackageSize {
		return "", "", fmt.Errorf("model pull: %s: %w: %d bytes", rawURL, ErrTooLarge, total)
	}
	f, err := os.CreateTemp(dir, ".pull-*.part")
	if err != nil {
		return "", "", fmt.Errorf("model pull: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	w := &progressWriter{w: io.MultiWriter(f, h), total: total, report: progress}
	n, err := io.Copy(w, io.LimitReader(resp.Body, MaxPackageSize+1))
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return "", "", fmt.Errorf("model pull: download %s: %w", rawURL, err)
	}
	if n > MaxPackageSize {
		return "", "", fmt.Errorf("model pull: %s: %w", rawURL, ErrTooLarge)
	}
	if total >= 0 && n != total {
		return "", "", fmt.Errorf("model pull: download %s: got %d of %d bytes", rawURL, n, total)
	}
	if err := f.Chmod(0o644); err != nil {
		return "", "", fmt.Errorf("model pull: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", "", fmt.Errorf("model pull: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", "", fmt.Errorf("model pull: %w", err)
	}
	ok = true
	return f.Name(), hex.EncodeToString(h.Sum(nil)), nil
}

type progressWriter struct {
	w      io.Writer
	done   int64
	total  int64
	report func(done, total int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	if p.report != nil {
		p.report(p.done, p.total)
	}
	return n, err
}

// packageFileName derives a safe local name from the download URL.
func packageFileName(rawURL, from, to string) string {
	name := ""
	if u, err := url.Parse(rawURL); err == nil {
		name = path.Base(u.Path)
	}
	safe := strings.HasSuffix(name, packageExt) && len(name) > len(packageExt) &&
		!strings.ContainsAny(name, `/\`) && !strings.HasPrefix(name, ".")
	if !safe {
		name = "translate-" + from + "_" + to + packageExt
	}
	return name
}

func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), name); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
