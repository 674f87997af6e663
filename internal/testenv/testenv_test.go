package testenv_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/dewire/dewire/internal/testenv"
)

// outcome records how a helper ended a test without ending this one.
type outcome struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (o *outcome) Skip(args ...any) { o.skipped, o.msg = true, fmt.Sprint(args...); runtime.Goexit() }
func (o *outcome) Skipf(format string, args ...any) {
	o.skipped, o.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (o *outcome) Fatal(args ...any) { o.failed, o.msg = true, fmt.Sprint(args...); runtime.Goexit() }
func (o *outcome) Fatalf(format string, args ...any) {
	o.failed, o.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f with a recorder on its own goroutine, as the testing package
// runs a test, so that Goexit ends only f.
func run(t *testing.T, f func(testing.TB)) *outcome {
	o := &outcome{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(o)
	}()
	<-done
	return o
}

func TestSharedFile(t *testing.T) {
	present := t.TempDir()
	if err := os.WriteFile(filepath.Join(present, "seed.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("skips when ../shared is absent", func(t *testing.T) {
		t.Setenv("DEWIRE_SHARED", filepath.Join(present, "absent"))
		if o := run(t, func(tb testing.TB) { testenv.SharedFile(tb, "seed.txt") }); !o.skipped || o.failed {
			t.Fatalf("skipped %v failed %v: %s", o.skipped, o.failed, o.msg)
		}
	})
	t.Run("fails when ../shared is present but the file is not", func(t *testing.T) {
		t.Setenv("DEWIRE_SHARED", present)
		if o := run(t, func(tb testing.TB) { testenv.SharedFile(tb, "missing.txt") }); !o.failed || o.skipped {
			t.Fatalf("skipped %v failed %v: %s", o.skipped, o.failed, o.msg)
		}
	})
	t.Run("returns the path when both are present", func(t *testing.T) {
		t.Setenv("DEWIRE_SHARED", present)
		var got string
		if o := run(t, func(tb testing.TB) { got = testenv.SharedFile(tb, "seed.txt") }); o.failed || o.skipped {
			t.Fatalf("skipped %v failed %v: %s", o.skipped, o.failed, o.msg)
		}
		if got != filepath.Join(present, "seed.txt") {
			t.Errorf("got %q", got)
		}
	})
}

func TestSharedGlob(t *testing.T) {
	present := t.TempDir()
	if err := os.WriteFile(filepath.Join(present, "a.de"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DEWIRE_SHARED", present)
	t.Run("fails when nothing matches in a present ../shared", func(t *testing.T) {
		if o := run(t, func(tb testing.TB) { testenv.SharedGlob(tb, "*.fr") }); !o.failed {
			t.Fatalf("skipped %v failed %v: %s", o.skipped, o.failed, o.msg)
		}
	})
	t.Run("returns the matches", func(t *testing.T) {
		var got []string
		run(t, func(tb testing.TB) { got = testenv.SharedGlob(tb, "*.de") })
		if len(got) != 1 || got[0] != filepath.Join(present, "a.de") {
			t.Errorf("got %q", got)
		}
	})
}

func TestLookupSharedNeverSkips(t *testing.T) {
	t.Setenv("DEWIRE_SHARED", filepath.Join(t.TempDir(), "absent"))
	var ok bool
	if o := run(t, func(tb testing.TB) { _, ok = testenv.LookupShared(tb) }); o.skipped || o.failed || ok {
		t.Fatalf("skipped %v failed %v present %v", o.skipped, o.failed, ok)
	}
}
