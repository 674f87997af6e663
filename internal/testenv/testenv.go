// Package testenv finds what tests need outside the repository: the shared
// fixtures and corpora in ../shared, and the command-line tools some tests
// use as oracles. Missing fixtures skip a test with a message; a missing
// tool fails it instead when DEWIRE_REQUIRE_TOOLS=1 (as CI sets).
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Root returns the repository root (the folder holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's folder")
		}
		dir = parent
	}
}

// Shared returns ../shared beside the repository root (or $DEWIRE_SHARED),
// skipping the test when it is absent.
func Shared(t testing.TB) string {
	t.Helper()
	shared := os.Getenv("DEWIRE_SHARED")
	if shared == "" {
		shared = filepath.Join(Root(t), "..", "shared")
	}
	if _, err := os.Stat(shared); err != nil {
		t.Skip("../shared not present")
	}
	return shared
}

// SharedFile returns a path under ../shared, skipping when it is absent.
func SharedFile(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{Shared(t)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not present in ../shared", filepath.Join(elem...))
	}
	return p
}

// Tool returns the path of a command-line oracle from the Debian package
// pkg. When it is missing the test skips, or fails under DEWIRE_REQUIRE_TOOLS=1.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		RequireOrSkip(t, name+" not installed (Debian package "+pkg+")")
	}
	return p
}

// RequireOrSkip skips with why, or fails with it under DEWIRE_REQUIRE_TOOLS=1.
func RequireOrSkip(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("DEWIRE_REQUIRE_TOOLS") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}
