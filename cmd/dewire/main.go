// Command dewire turns a stream of German news articles into clean,
// bilingual German/English records. Subcommands only parse flags and call
// into pipeline/ and workers/.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	os.Exit(execute(os.Args[1:]))
}

// execute runs the command line and maps the outcome to an exit code:
// 0 ok, 1 runtime failure, 2 usage.
func execute(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(os.Stderr, "dewire: %v\nRun 'dewire --help' for usage.\n", err)
		return 2
	}
	fmt.Fprintf(os.Stderr, "dewire: %v\n", err)
	return 1
}

// usageError is a mistake in the command line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }
