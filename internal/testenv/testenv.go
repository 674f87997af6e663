// Package testenv finds what tests need outside the repository: the shared
// fixtures and corpora in ../shared, and the command-line tools some tests
// use as oracles. An absent ../shared skips a test with a message, but a
// file missing from a ../shared that is there fails it: the fixtures are
// then incomplete, not absent. A missing tool skips, or fails under
// DEWIRE_REQUIRE_TOOLS=1 (as CI sets).
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
	shared, ok := LookupShared(t)
	if !ok {
		t.Skip("../shared not present")
	}
	return shared
}

// LookupShared returns ../shared (or $DEWIRE_SHARED) and whether it is
// present, without skipping: for fuzz seeds and benchmark inputs that are
// optional extras.
func LookupShared(t testing.TB) (string, bool) {
	t.Helper()
	shared := os.Getenv("DEWIRE_SHARED")
	if shared == "" {
		shared = filepath.Join(Root(t), "..", "shared")
	}
	if _, err := os.Stat(shared); err != nil {
		return shared, false
	}
	return shared, true
}

// SharedFile returns a path under ../shared. It skips when ../shared is
// absent and fails when ../shared is present but the path is not.
func SharedFile(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{Shared(t)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("../shared is present but %s is not: %v", filepath.Join(elem...), err)
	}
	return p
}

// SharedGlob returns the paths under ../shared matching pattern (as
// filepath.Glob). It skips when ../shared is absent and fails when nothing
// matches in a ../shared that is present.
func SharedGlob(t testing.TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(Shared(t), pattern))
	if err != nil {
		t.Fatalf("glob %s: %v", pattern, err)
	}
	if len(files) == 0 {
		t.Fatalf("../shared is present but nothing matches %s", pattern)
	}
	return files
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
