package main

import (
	"io"
	"os"
	"sync"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/term"
)

// newLogger writes to stderr: console lines on a terminal, JSON otherwise.
func newLogger(g *globalFlags) (*zap.Logger, error) {
	return newLoggerTo(g, os.Stderr)
}

// newLoggerTo writes the log to w: console lines when w is a terminal, JSON
// otherwise. On a terminal the default level is warn, so a person sees what
// needs attention and the summary, not the workings; --log-level (or
// $DEWIRE_LOG_LEVEL) overrides it. Operator logs carry no stack traces.
func newLoggerTo(g *globalFlags, w io.Writer) (*zap.Logger, error) {
	if err := g.validate(); err != nil {
		return nil, err
	}
	tty := isTerminal(w)
	var level zapcore.Level
	_ = level.Set(g.logLevel) // validated above
	if tty && !g.levelSet {
		level = zapcore.WarnLevel
	}
	format := g.logFormat
	if format == "auto" {
		format = "json"
		if tty {
			format = "console"
		}
	}
	var enc zapcore.Encoder
	switch format {
	case "json":
		enc = zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	default: // console
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeLevel = zapcore.CapitalLevelEncoder
		if tty {
			ec.EncodeLevel = zapcore.CapitalColorLevelEncoder
		}
		enc = zapcore.NewConsoleEncoder(ec)
	}
	core := zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), zap.NewAtomicLevelAt(level))
	// No zap.AddStacktrace: an operator reads the message and its error, not Go frames.
	return zap.New(core, zap.ErrorOutput(zapcore.Lock(zapcore.AddSync(w)))), nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// switchWriter sends writes to one writer at a time; the progress display
// takes the log over while it draws, so log lines print above the bar
// instead of through it.
type switchWriter struct {
	mu       sync.Mutex
	w        io.Writer
	fallback io.Writer // where a line goes that w refuses (a display that has just stopped)
}

func newSwitchWriter(w io.Writer) *switchWriter { return &switchWriter{w: w, fallback: w} }

func (s *switchWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.w.Write(b)
	if err != nil && s.w != s.fallback {
		return s.fallback.Write(b)
	}
	return n, err
}

// Fd lets isTerminal see through the writer.
func (s *switchWriter) Fd() uintptr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

// set routes writes to w and returns the writer used before.
func (s *switchWriter) set(w io.Writer) io.Writer {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.w
	s.w = w
	return old
}
