//go:build unix

package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDirEnv names an environment variable that may point at the directory
// holding initdb and postgres, overriding the search.
const BinDirEnv = "DEWIRE_PG_BIN"

// superuser is the database role initdb creates; authentication is trust.
const superuser = "dewire"

// readyTimeout bounds how long Start waits for the server to accept connections.
const readyTimeout = 60 * time.Second

// Server is a running PostgreSQL server owned by one test.
type Server struct {
	// DSN connects over TCP to the "postgres" database as the superuser.
	DSN string
	// Port is the TCP port on 127.0.0.1.
	Port int
	// SocketDir holds the server's unix socket.
	SocketDir string

	dbs atomic.Int64
}

// Start runs initdb in a fresh directory and starts postgres on a free port;
// the server is stopped and its files removed when the test ends. It skips
// or fails the test (see RequireToolsEnv) when PostgreSQL is not installed.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := findBinDir()
	if err != nil {
		unavailable(tb, err)
	}
	cred, owner, err := runAs()
	if err != nil {
		unavailable(tb, err)
	}

	// Not t.TempDir: its parents are private to this user, and a dropped-down
	// postgres process must be able to reach the data directory.
	root, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() { os.RemoveAll(root) })
	data := filepath.Join(root, "data")
	sock := filepath.Join(root, "sock")
	for _, dir := range []string{data, sock} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
	}
	if owner != nil {
		for _, dir := range []string{root, data, sock} {
			if err := os.Chown(dir, owner.uid, owner.gid); err != nil {
				tb.Fatalf("pgtest: chown %s: %v", dir, err)
			}
		}
	}

	initdb := exec.Command(filepath.Join(bin, "initdb"),
		"-D", data, "-U", superuser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = procAttr(cred)
	if out, err := initdb.CombinedOutput(); err != nil {
		tb.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}

	// A free port can be taken by someone else before postgres binds it; try again.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
		s := &Server{
			DSN:       fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=postgres sslmode=disable", port, superuser),
			Port:      port,
			SocketDir: sock,
		}
		stop, err := s.run(bin, data, root, cred)
		if err == nil {
			tb.Cleanup(stop)
			return s
		}
		lastErr = err
	}
	tb.Fatalf("pgtest: start postgres: %v", lastErr)
	return nil
}

// run starts postgres and waits until it accepts connections. The returned
// function stops it with a fast shutdown.
func (s *Server) run(bin, data, root string, cred *syscall.Credential) (stop func(), err error) {
	logPath := filepath.Join(root, fmt.Sprintf("postgres-%d.log", s.Port))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", data,
		"-p", strconv.Itoa(s.Port),
		"-k", s.SocketDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=50",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = procAttr(cred)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, s.DSN)
		if err == nil {
			conn.Close(ctx)
			return stop, nil
		}
		select {
		case werr := <-exited:
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("postgres exited (%v):\n%s", werr, log)
		case <-ctx.Done():
			stop()
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("postgres not ready after %s: %v\n%s", readyTimeout, err, log)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// CreateDatabase creates an empty database for one test and returns a DSN
// for it, so that tests sharing a server do not see each other's tables.
func (s *Server) CreateDatabase(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("test_%d", s.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN)
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	return fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", s.Port, superuser, name)
}

// findBinDir returns the directory holding initdb and postgres: $DEWIRE_PG_BIN,
// else the newest /usr/lib/postgresql/<version>/bin, else the one on $PATH.
func findBinDir() (string, error) {
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if dir := os.Getenv(BinDirEnv); dir != "" {
		if has(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("%s=%s has no initdb and postgres", BinDirEnv, dir)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if has(dir) {
			return dir, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no initdb and postgres under /usr/lib/postgresql/*/bin or on PATH")
}

// version reads the major version out of /usr/lib/postgresql/<version>/bin.
func version(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

type ids struct{ uid, gid int }

// runAs picks the account the server runs under: initdb and postgres refuse
// to run as root, so root drops to the "postgres" user.
func runAs() (*syscall.Credential, *ids, error) {
	if os.Geteuid() != 0 {
		return nil, nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, nil, fmt.Errorf("running as root and no postgres user to run the server as: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return nil, nil, fmt.Errorf("postgres user ids: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, &ids{uid, gid}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
