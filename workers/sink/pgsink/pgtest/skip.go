package pgtest

import (
	"os"
	"testing"
)

// RequireToolsEnv names the environment variable that turns a missing
// PostgreSQL installation from a skip into a failure.
const RequireToolsEnv = "DEWIRE_REQUIRE_TOOLS"

func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv(RequireToolsEnv) == "1" {
		tb.Fatalf("pgtest: PostgreSQL is required (%s=1) but unavailable: %v", RequireToolsEnv, err)
	}
	tb.Skipf("pgtest: skipping, PostgreSQL unavailable: %v (install the Debian package postgresql)", err)
}
