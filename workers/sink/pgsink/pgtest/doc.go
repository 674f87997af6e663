// Package pgtest starts a throwaway PostgreSQL server for a test, using the
// initdb and postgres binaries installed on the machine, and stops it when the
// test ends.
//
// When the binaries are missing the test is skipped, unless the environment
// sets DEWIRE_REQUIRE_TOOLS=1, as CI does; then it fails. It is for tests only.
package pgtest
