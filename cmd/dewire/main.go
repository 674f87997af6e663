// Command dewire turns a stream of German news articles into clean,
// bilingual German/English records. Subcommands only parse flags and call
// into pipeline/ and workers/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(execute(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// execute runs the command line and maps the outcome to an exit code:
// 0 ok, 1 runtime failure, 2 usage. Cancelling ctx acts like SIGTERM.
func execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		path := "dewire"
		if cmd != nil {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(stderr, "dewire: %v\nRun '%s --help' for usage.\n", err, path)
		return 2
	}
	fmt.Fprintf(stderr, "dewire: %v\n", err)
	return 1
}

// usageError is a mistake in the command line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return &usageError{fmt.Errorf(format, a...)} }
