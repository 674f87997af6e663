//go:build !unix

package pgtest

import (
	"errors"
	"testing"
)

// Server is a running PostgreSQL server owned by one test.
type Server struct {
	DSN       string
	Port      int
	SocketDir string
}

// Start is not supported on this platform: the test is skipped, or failed
// when RequireToolsEnv is set.
func Start(tb testing.TB) *Server {
	tb.Helper()
	unavailable(tb, errors.New("pgtest needs a unix system"))
	return nil
}

// CreateDatabase is never reached on this platform.
func (s *Server) CreateDatabase(tb testing.TB) string { tb.Helper(); return s.DSN }
