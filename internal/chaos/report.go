package chaos

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteTo prints the report: the table, then the evidence behind it.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	mode := "single server"
	if r.Cluster {
		mode = "cluster of 3"
	}
	tw := tabwriter.NewWriter(cw, 0, 4, 2, ' ', 0)
	row := func(name string, v any) { fmt.Fprintf(tw, "%s\t%v\n", name, v) }
	fmt.Fprintf(tw, "dewire chaos (%s)\t\n", mode)
	row("ingested: posts (attempts, items)", fmt.Sprintf("%d (%d, %d)", r.Posts, r.PostAttempts, r.PostedItems))
	row("ingested: file writes (items)", fmt.Sprintf("%d (%d)", r.FileWrites, r.FileItems))
	row("expected records", r.Expected)
	row("written (distinct id@rev in JSONL)", r.Written)
	row("lost", len(r.Lost))
	row("duplicated", len(r.Duplicated))
	row("TMX units missing (records)", len(r.TMXMissing))
	row("dead-lettered", fmt.Sprintf("%d (ARTICLES_DLQ holds %d)", len(r.DeadLettered), r.DLQ))
	row("rejected", fmt.Sprintf("%d (ARTICLES_REJECTED holds %d)", len(r.Rejected), r.RejectedMsgs))
	row("unexpected records in the sink", r.Unexpected)
	row("ARTICLES_CLEAN messages", r.Clean)
	row("posts never answered", r.Ambiguous)
	row("folder contents never confirmed", r.Unconfirmed)
	var kills []string
	total := 0
	for _, k := range []string{"ingest", "normalize", "translate", "sink"} {
		kills = append(kills, fmt.Sprintf("%s %d", k, r.Kills[k]))
		total += r.Kills[k]
	}
	row("worker kills", fmt.Sprintf("%d (%s)", total, strings.Join(kills, ", ")))
	row("nats restarts / stops", fmt.Sprintf("%d / %d", r.NATSRestarts, r.NATSStops))
	row("unplanned exits", r.Exits)
	row("engine requests (failed on purpose)", fmt.Sprintf("%d (%d)", r.EngineRequests, r.EngineFailures))
	row("quiet", r.Quiet)
	row("at the end", r.Backlog)
	tw.Flush()
	list := func(title string, items []string, limit int) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(cw, "\n%s (%d):\n", title, len(items))
		for i, it := range items {
			if i == limit {
				fmt.Fprintf(cw, "  … %d more\n", len(items)-limit)
				break
			}
			fmt.Fprintf(cw, "  %s\n", it)
		}
	}
	list("LOST", r.Lost, 30)
	list("DUPLICATED", r.Duplicated, 30)
	list("TMX UNITS MISSING", r.TMXMissing, 20)
	list("dead-lettered", r.DeadLettered, 20)
	list("rejected", r.Rejected, 10)
	list("unplanned exits", r.Crashes, 40)
	list("workers that did not stop cleanly", r.Stops, 20)
	list("errors in the logs", r.Logs, 40)
	list("problems reading the results", r.Problems, 20)
	list("faults", r.Faults, 100)
	fmt.Fprintf(cw, "\nwork dir: %s\n", r.WorkDir)
	return cw.n, cw.err
}

type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// summarizeLog counts the error-level JSON log lines and Go panics of one
// log file and names the most frequent messages.
func summarizeLog(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	counts := map[string]int{}
	total := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) > 0 && line[0] == '{':
			var e struct {
				Level string `json:"level"`
				Msg   string `json:"msg"`
				Error string `json:"error"`
			}
			if json.Unmarshal(line, &e) != nil || (e.Level != "error" && e.Level != "fatal" && e.Level != "panic" && e.Level != "dpanic") {
				continue
			}
			total++
			msg := e.Msg
			if e.Error != "" {
				msg += ": " + trim(e.Error, 160)
			}
			counts[msg]++
		case strings.HasPrefix(string(line), "panic:") || strings.HasPrefix(string(line), "fatal error:") || strings.HasPrefix(string(line), "Error:") || strings.HasPrefix(string(line), "dewire:"):
			total++
			counts[trim(string(line), 200)]++
		}
	}
	if total == 0 {
		return ""
	}
	type mc struct {
		msg string
		n   int
	}
	var top []mc
	for m, n := range counts {
		top = append(top, mc{m, n})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].n > top[j].n || top[i].n == top[j].n && top[i].msg < top[j].msg })
	var parts []string
	for i, t := range top {
		if i == 3 {
			break
		}
		parts = append(parts, fmt.Sprintf("%d× %q", t.n, t.msg))
	}
	return fmt.Sprintf("%d error lines; %s", total, strings.Join(parts, "; "))
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
