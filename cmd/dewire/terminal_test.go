package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/dewire/dewire/internal/testenv"
)

// terminal is a pseudo-terminal whose screen output the test collects.
type terminal struct {
	ptmx, tty *os.File
	mu        sync.Mutex
	out       strings.Builder
	done      chan struct{}
}

func newTerminal(t *testing.T) *terminal {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		testenv.RequireOrSkip(t, fmt.Sprintf("no pseudo-terminal: %v", err))
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 50, Cols: 250}); err != nil {
		t.Fatal(err)
	}
	term := &terminal{ptmx: ptmx, tty: tty, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	return term
}

func (term *terminal) screen() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// waitFor waits until the screen shows s.
func (term *terminal) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(term.screen(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never showed %q:\n%s", s, term.screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// run runs the command line with the terminal as stdin, stdout and stderr,
// then closes the terminal and returns the exit code and all it showed.
func (term *terminal) run(t *testing.T, ctx context.Context, args ...string) (int, string) {
	t.Helper()
	code := execute(ctx, args, term.tty, term.tty, term.tty)
	term.tty.Close()
	select {
	case <-term.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the terminal output did not end")
	}
	return code, term.screen()
}

var csi = regexp.MustCompile(`^\x1b\[([0-9;?]*)([A-Za-z])`)

// screenLines replays the output as a terminal shows it: text at the
// cursor, carriage returns, newlines, cursor up (CSI n A), erase below (CSI
// J) and erase line (CSI K); colours are dropped. What one write draws over
// another is gone, as on a real screen. It returns the non-blank lines.
func screenLines(out string) []string {
	var screen [][]rune
	row, col := 0, 0
	put := func(r rune) {
		for len(screen) <= row {
			screen = append(screen, nil)
		}
		for len(screen[row]) <= col {
			screen[row] = append(screen[row], ' ')
		}
		screen[row][col] = r
		col++
	}
	for i := 0; i < len(out); {
		if m := csi.FindStringSubmatch(out[i:]); m != nil {
			i += len(m[0])
			n, _ := strconv.Atoi(m[1])
			switch m[2] {
			case "A":
				row = max(row-max(n, 1), 0)
			case "J":
				if row < len(screen) {
					screen = screen[:row+1]
					screen[row] = screen[row][:min(col, len(screen[row]))]
				}
			case "K":
				if row < len(screen) {
					screen[row] = screen[row][:min(col, len(screen[row]))]
				}
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(out[i:])
		i += size
		switch r {
		case '\r':
			col = 0
		case '\n':
			row++
		case '\x1b':
		default:
			put(r)
		}
	}
	var lines []string
	for _, l := range screen {
		if s := strings.TrimRight(string(l), " "); strings.TrimSpace(s) != "" {
			lines = append(lines, s)
		}
	}
	return lines
}

func TestRunOnATerminalDrawsABarKeepsLogsOffItAndEndsWithTheSummary(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.CopyFS(in, os.DirFS(filepath.Join(testenv.Root(t), "examples", "articles"))); err != nil {
		t.Fatal(err)
	}
	// Enough articles that the bar is drawn for a while before a dangling
	// link, read last, is logged as an error.
	for i := range 300 {
		body := fmt.Sprintf("Bericht Nummer %d über die Lage\n\nDer Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt werden, Meldung %d.\n", i, i)
		if err := os.WriteFile(filepath.Join(in, fmt.Sprintf("50-meldung-%03d.txt", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "gone.txt"), filepath.Join(in, "99-dangling.txt")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DEWIRE_MODEL_DIR", t.TempDir())
	term := newTerminal(t)
	code, out := term.run(t, context.Background(), "run", "--data", filepath.Join(dir, "data"), "--out", filepath.Join(dir, "out"), "--engine", "none", "--concurrency", "2", in)
	if code != 1 { // the unreadable link fails the run after the summary
		t.Fatalf("exit %d:\n%s", code, out)
	}
	lines := screenLines(out)
	if os.Getenv("DEBUG_SCREEN") != "" {
		t.Logf("%q\n%s", out, strings.Join(lines, "\n"))
	}
	var bar, logLine []string
	for _, l := range lines {
		if strings.Contains(l, "[#") || strings.Contains(l, "ETA") {
			bar = append(bar, l)
		}
		if strings.Contains(l, "no translation engine configured") && !strings.Contains(l, "WARN") {
			t.Errorf("a log line was drawn over: %q", l)
		}
		if strings.Contains(l, "ERROR") || strings.Contains(l, "WARN") || strings.Contains(l, "INFO") {
			logLine = append(logLine, l)
		}
	}
	if len(bar) != 1 {
		t.Errorf("want the bar once on the final screen, got %q", bar)
	}
	if len(bar) == 0 {
		t.Fatalf("no progress bar on the terminal:\n%s", strings.Join(lines, "\n"))
	}
	final := bar[len(bar)-1]
	for _, want := range []string{"313/313", "/s", "ETA", "clean 310 · rejected 3 · dead-lettered 0 · duplicates 0"} {
		if !strings.Contains(final, want) {
			t.Errorf("the last bar %q lacks %q", final, want)
		}
	}
	var sawUnreadable bool
	for _, l := range logLine {
		if strings.Contains(l, "INFO") {
			t.Errorf("info lines on a terminal by default: %q", l)
		}
		if strings.Contains(l, "[#") || strings.Contains(l, "ETA") {
			t.Errorf("a log line shares its line with the bar: %q", l)
		}
		if strings.Contains(l, "ERROR") && strings.Contains(l, "input unreadable") {
			sawUnreadable = true
		}
	}
	if !sawUnreadable {
		t.Errorf("the unreadable input was not logged on a line of its own:\n%s", strings.Join(lines, "\n"))
	}
	// The summary, then the one-line reason for exit 1, end the screen.
	n := len(lines)
	if n < 4 || !strings.HasPrefix(lines[n-4], "dewire run: 313 read, 310 published, 310 clean, 3 rejected") ||
		!strings.HasPrefix(lines[n-3], "engine: 0 characters billed, 0 segments from the translation memory") ||
		!strings.HasPrefix(lines[n-2], "records: ") || !strings.Contains(lines[n-1], "1 input(s) could not be read") {
		t.Fatalf("the screen does not end with the summary:\n%s", strings.Join(lines[max(n-8, 0):], "\n"))
	}
}

func TestRunWithoutATerminalPrintsPlainProgressLines(t *testing.T) {
	dir := t.TempDir()
	examples := filepath.Join(testenv.Root(t), "examples", "articles")
	code, stdout, stderr := dewire(t, context.Background(), "", "run", "--log-level", "error", "--progress-interval", "5ms",
		"--data", filepath.Join(dir, "data"), "--out", filepath.Join(dir, "out"), "--engine", "none", examples)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	line := regexp.MustCompile(`(?m)^progress: \d+/\d+\+? (\(reading\) )?· [0-9.]+/s · ETA \S+ · clean \d+ · rejected \d+ · dead-lettered \d+ · duplicates \d+$`)
	if !line.MatchString(stderr) {
		t.Fatalf("no plain progress line on stderr:\n%s", stderr)
	}
	if strings.Contains(stderr, "\r") || strings.Contains(stderr, "\x1b[") {
		t.Fatalf("terminal control codes without a terminal:\n%q", stderr)
	}
	if !strings.Contains(stdout, "13 read, 10 published, 10 clean") {
		t.Fatalf("summary: %s", stdout)
	}
}

var summaryLine = regexp.MustCompile(`dewire run: (\d+) read, (\d+) published, (\d+) clean, (\d+) rejected, (\d+) dead-lettered, (\d+) duplicates(?:, (\d+) not yet published)?(?:, (\d+) in flight)?`)

func TestAnInterruptedRunStillAddsUp(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.Mkdir(in, 0o755)
	for i := range 1500 {
		body := fmt.Sprintf("Bericht Nummer %d über die Lage\n\nDer Präsident sagte am Montag in Baku, die Gespräche mit der Regierung würden fortgesetzt werden, Meldung %d.\n", i, i)
		if err := os.WriteFile(filepath.Join(in, fmt.Sprintf("a%04d.txt", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "out")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Ctrl-C once the first records are on disk.
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			if files, _ := filepath.Glob(filepath.Join(out, "articles-*.jsonl")); len(files) > 0 {
				if st, err := os.Stat(files[0]); err == nil && st.Size() > 0 {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	code, stdout, stderr := dewire(t, ctx, "", "run", "--log-level", "error", "--concurrency", "2", "--progress", "none",
		"--data", filepath.Join(dir, "data"), "--out", out, "--engine", "none", in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "interrupted:") {
		t.Fatalf("the run was not interrupted (stdout %s)", stdout)
	}
	m := summaryLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("summary: %s", stdout)
	}
	n := make([]int, len(m))
	for i, s := range m[1:] {
		n[i+1], _ = strconv.Atoi(s) // an absent group is 0
	}
	read, published, clean, rejected, dead, dups, notYet, inFlight := n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8]
	if read != published+dups+rejected+notYet {
		t.Errorf("%d read ≠ %d published + %d duplicates + %d rejected + %d not yet published", read, published, dups, rejected, notYet)
	}
	if published != clean+dead+inFlight {
		t.Errorf("%d published ≠ %d clean + %d dead-lettered + %d in flight", published, clean, dead, inFlight)
	}
	if onDisk := sinkRecords(t, out); onDisk != clean {
		t.Errorf("%d records on disk, the summary says %d clean", onDisk, clean)
	}
	if clean == 1500 {
		t.Errorf("nothing was left when interrupted: %s", stdout)
	}

	t.Run("the next run finishes what was left, each article once", func(t *testing.T) {
		code, stdout, stderr := dewire(t, context.Background(), "", "run", "--log-level", "error", "--progress", "none",
			"--data", filepath.Join(dir, "data"), "--out", out, "--engine", "none", in)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if n := sinkRecords(t, out); n != 1500 {
			t.Fatalf("%d records on disk after the second run, want 1500 (%s)", n, stdout)
		}
	})
}

func TestOnATerminalTheDefaultLogLevelIsWarn(t *testing.T) {
	for _, tc := range []struct {
		name     string
		g        globalFlags
		wantInfo bool
	}{
		{"by default", globalFlags{logLevel: "info", logFormat: "auto"}, false},
		{"unless --log-level is given", globalFlags{logLevel: "info", logFormat: "auto", levelSet: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			term := newTerminal(t)
			log, err := newLoggerTo(&tc.g, term.tty)
			if err != nil {
				t.Fatal(err)
			}
			log.Info("stage started")
			log.Warn("engine paused")
			term.tty.Close()
			<-term.done
			screen := strings.Join(screenLines(term.screen()), "\n")
			if !strings.Contains(screen, "WARN\tengine paused") {
				t.Fatalf("no console warning on the terminal: %q", screen)
			}
			if got := strings.Contains(screen, "stage started"); got != tc.wantInfo {
				t.Fatalf("info shown: %v, want %v: %q", got, tc.wantInfo, screen)
			}
		})
	}
	t.Run("elsewhere the default stays info, as JSON", func(t *testing.T) {
		var buf syncBuffer
		log, err := newLoggerTo(&globalFlags{logLevel: "info", logFormat: "auto"}, &buf)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("stage started")
		if !strings.Contains(buf.String(), `"msg":"stage started"`) {
			t.Fatalf("log: %s", buf.String())
		}
	})
}
