package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/dewire/dewire/pipeline/mt/ct2"
	"github.com/dewire/dewire/pipeline/mt/engines"
)

// maxArticleBytes is the largest --max-bytes any server can carry: an
// article may use an eighth of max_payload, and NATS caps max_payload at 64 MiB.
const maxArticleBytes = (64 << 20) / 8

// The checks below run before anything starts, so a bad value is a usage
// error (exit 2) with a one-line reason rather than a surprise later.

func (g *globalFlags) validate() error {
	var level zapcore.Level
	if err := level.Set(g.logLevel); err != nil {
		return usagef("--log-level %q: want debug, info, warn or error", g.logLevel)
	}
	return checkEnum("--log-format", g.logFormat, "auto", "console", "json")
}

func checkEnum(flag, v string, allowed ...string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return usagef("%s %q: want %s", flag, v, orList(allowed))
}

func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func checkAtLeast(flag string, v, least int) error {
	if v < least {
		return usagef("%s %d: want at least %d", flag, v, least)
	}
	return nil
}

func checkRange(flag string, v, least, most int) error {
	if v < least || v > most {
		return usagef("%s %d: want %d to %d", flag, v, least, most)
	}
	return nil
}

// checkDuration refuses negative durations, and zero unless zeroOK.
func checkDuration(flag string, d time.Duration, zeroOK bool) error {
	switch {
	case d < 0:
		return usagef("%s %s: want a positive duration", flag, d)
	case d == 0 && !zeroOK:
		return usagef("%s 0s: want a positive duration", flag)
	}
	return nil
}

// checkAddr accepts host:port, :port and, where portAlone, a bare port; the
// port must be a number from 0 to 65535. An empty address is off.
func checkAddr(flag, addr string, portAlone bool) error {
	if addr == "" {
		return nil
	}
	port := addr
	if portAlone && !strings.Contains(addr, ":") {
		port = addr
	} else {
		var err error
		if _, port, err = net.SplitHostPort(addr); err != nil {
			return usagef("%s %q: want host:port", flag, addr)
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return usagef("%s %q: port %q is not a number from 0 to 65535", flag, addr, port)
	}
	return nil
}

func checkURLs(flag string, urls []string) error {
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("%s %q: want an http or https URL", flag, raw)
		}
	}
	return nil
}

func (f *intakeFlags) validate() error {
	if f.maxBytes < 1 || f.maxBytes > maxArticleBytes {
		return usagef("--max-bytes %d: want 1 to %d (an eighth of the largest max_payload NATS allows)", f.maxBytes, maxArticleBytes)
	}
	if err := checkAtLeast("--max-paragraphs", f.maxParagraphs, 1); err != nil {
		return err
	}
	if math.IsNaN(f.minConfidence) || f.minConfidence < 0 || f.minConfidence > 1 {
		return usagef("--min-confidence %v: want a number from 0 to 1", f.minConfidence)
	}
	return nil
}

func (e *engineFlags) validate() error {
	if err := checkEnum("--engine", strings.ToLower(e.engine), engines.Names()...); err != nil {
		return err
	}
	if err := checkEnum("--compute-type", strings.ToLower(e.computeType), ct2.ComputeTypeNames()...); err != nil {
		return err
	}
	return checkEnum("--deepl-target", strings.ToUpper(e.deeplTarget), "EN-US", "EN-GB")
}

func (f *feedFlags) validate() error {
	if err := checkURLs("--feed", f.urls); err != nil {
		return err
	}
	return checkDuration("--feed-interval", f.interval, false)
}

func (t *topoFlags) validate() error {
	for _, c := range []struct {
		flag string
		d    time.Duration
	}{{"--ack-wait", t.ackWait}, {"--duplicate-window", t.duplicateWindow}, {"--clean-max-age", t.cleanMaxAge}} {
		if err := checkDuration(c.flag, c.d, false); err != nil {
			return err
		}
	}
	if err := checkAtLeast("--max-ack-pending", t.maxAckPending, 1); err != nil {
		return err
	}
	_, err := t.topology()
	return err
}

// ErrInput reports an input named on the command line that cannot be read.
var ErrInput = errors.New("cannot read input")

// checkInputs stats every path argument ("-" is stdin), so a missing file
// is reported before the pipeline starts.
func checkInputs(paths []string) error {
	for _, p := range paths {
		if p == "-" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return fmt.Errorf("%w %s: %w", ErrInput, p, err)
		}
	}
	return nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkFiles reports a file named by a flag that does not exist, before
// anything starts. Pairs are flag name, path; an empty path is unset.
func checkFiles(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		flag, path := pairs[i], pairs[i+1]
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return fmt.Errorf("%w %s (%s): %w", ErrInput, path, flag, err)
		}
	}
	return nil
}

func (n *natsFlags) files() error {
	return checkFiles("--nats-creds", n.creds, "--nats-nkey", n.nkey, "--nats-password-file", n.passwordFile,
		"--nats-token-file", n.tokenFile, "--nats-tls-ca", n.ca, "--nats-tls-cert", n.cert, "--nats-tls-key", n.key)
}

func (h *httpDoorFlags) files() error {
	return checkFiles("--http-token-file", h.tokenFile, "--http-password-file", h.passwordFile,
		"--http-tls-cert", h.certFile, "--http-tls-key", h.keyFile)
}

func (l *listenFlags) files() error {
	return checkFiles("--listen-password-file", l.passwordFile, "--listen-token-file", l.tokenFile,
		"--listen-tls-cert", l.certFile, "--listen-tls-key", l.keyFile, "--listen-tls-ca", l.caFile)
}
