package sink_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dewire/dewire/pipeline/article"
	"github.com/dewire/dewire/pipeline/record"
	"github.com/dewire/dewire/workers/sink"
)

// openHelperEnv makes the test binary open the sink folder it names, print
// how long that took and the process's peak RSS, and exit: a fresh process
// per measurement, so the RSS is the sink's alone.
// openHelperKindEnv names the writer it opens: "jsonl" (the default) or
// "tmx".
const (
	openHelperEnv     = "DEWIRE_SINK_OPEN_HELPER"
	openHelperKindEnv = "DEWIRE_SINK_OPEN_HELPER_KIND"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(openHelperEnv); dir != "" {
		if os.Getenv(openHelperKindEnv) == "tmx" {
			os.Exit(openTMXHelper(dir))
		}
		os.Exit(openHelper(dir))
	}
	os.Exit(m.Run())
}

func openTMXHelper(dir string) int {
	start := time.Now()
	t, err := sink.OpenTMX(dir, record.TMXHeader{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	took := time.Since(start)
	_, _, ok := t.Latest("r0000042")
	if err := t.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("open_ns %d rss_kb %d records %d found %v\n", took.Nanoseconds(), peakRSS(), 0, ok)
	return 0
}

func openHelper(dir string) int {
	start := time.Now()
	j, err := sink.OpenJSONL(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	took := time.Since(start)
	_, _, ok := j.Latest("r0000042")
	n := j.Len()
	j.Close()
	fmt.Printf("open_ns %d rss_kb %d records %d found %v\n", took.Nanoseconds(), peakRSS(), n, ok)
	return 0
}

// peakRSS is VmHWM from /proc/self/status, in KiB (0 where there is none).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// writeArchive lays out n records over 30 days as the sink writes them:
// the data files and a complete index.tsv.
func writeArchive(b *testing.B, dir string, n int) {
	b.Helper()
	day0 := time.Date(2026, 10, 1, 6, 0, 0, 0, time.UTC)
	idx, err := os.Create(filepath.Join(dir, "index.tsv"))
	if err != nil {
		b.Fatal(err)
	}
	iw := bufio.NewWriterSize(idx, 1<<20)
	const days = 30
	per := (n + days - 1) / days
	for d := range days {
		at := day0.Add(time.Duration(d) * 24 * time.Hour)
		name := "articles-" + at.Format(time.DateOnly) + ".jsonl"
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		var end int64
		for i := d * per; i < min(n, (d+1)*per); i++ {
			a := &article.Article{
				Schema: article.Schema, ID: fmt.Sprintf("r%07d", i), Rev: 1, Hash: fmt.Sprintf("%016x", i*7919),
				Source: article.Source{Name: "wire", IngestedAt: at},
				DE:     article.Text{Title: "Titel " + strconv.Itoa(i), Paragraphs: []string{"Ein kurzer Absatz über die Lage.", "Noch ein Absatz."}},
				EN:     &article.Text{Title: "Title " + strconv.Itoa(i), Paragraphs: []string{"A short paragraph on the situation.", "Another paragraph."}},
			}
			line, err := json.Marshal(a)
			if err != nil {
				b.Fatal(err)
			}
			w.Write(append(line, '\n'))
			end += int64(len(line)) + 1
			fmt.Fprintf(iw, "%s@1\t%s\t%d\t%s\n", a.ID, name, end, a.Hash)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	if err := iw.Flush(); err != nil {
		b.Fatal(err)
	}
	idx.Close()
}

// writeTMXArchive lays out n records of two sentence pairs over 30 days as
// the TMX writer writes them (the same units, one file per day), without
// its index: the first open builds that.
func writeTMXArchive(b *testing.B, dir string, n int) {
	b.Helper()
	day0 := time.Date(2026, 10, 1, 6, 0, 0, 0, time.UTC)
	const days = 30
	per := (n + days - 1) / days
	for d := range days {
		at := day0.Add(time.Duration(d) * 24 * time.Hour)
		f, err := os.Create(filepath.Join(dir, "articles-"+at.Format(time.DateOnly)+".tmx"))
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		enc := record.NewTMXEncoder(w, record.TMXHeader{})
		for i := d * per; i < min(n, (d+1)*per); i++ {
			a := &article.Article{
				ID: fmt.Sprintf("r%07d", i), Rev: 1, Hash: fmt.Sprintf("%016x", i*7919),
				Segments: []article.Segment{
					{Para: article.ParaTitle, DE: "Titel " + strconv.Itoa(i), EN: "Title " + strconv.Itoa(i)},
					{Para: 0, DE: "Ein kurzer Absatz über die Lage.", EN: "A short paragraph on the situation."},
				},
			}
			if err := enc.Encode(a); err != nil {
				b.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			b.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// openInChild runs the open helper on dir and returns its figures.
func openInChild(b *testing.B, dir string) (took time.Duration, rssKB int64) {
	return openKindInChild(b, "jsonl", dir)
}

func openKindInChild(b *testing.B, kind, dir string) (took time.Duration, rssKB int64) {
	b.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), openHelperEnv+"="+dir, openHelperKindEnv+"="+kind)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("open helper: %v\n%s", err, out)
	}
	var ns int64
	var n int
	var found bool
	if _, err := fmt.Sscanf(string(out), "open_ns %d rss_kb %d records %d found %v", &ns, &rssKB, &n, &found); err != nil || !found {
		b.Fatalf("open helper printed %q (%v)", out, err)
	}
	return time.Duration(ns), rssKB
}

// BenchmarkOpenJSONL measures a sink's start-up on an archive of
// DEWIRE_SINK_BENCH_RECORDS records (default 100,000): the time OpenJSONL
// takes and the peak RSS of a process that only opens it. The first open,
// which builds what later ones start from, is logged apart.
func BenchmarkOpenJSONL(b *testing.B) {
	n := benchRecords(b)
	dir := b.TempDir()
	writeArchive(b, dir, n)
	first, firstRSS := openInChild(b, dir)
	b.Logf("%d records: first open %v, peak RSS %d MiB", n, first, firstRSS>>10)
	b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
		var total time.Duration
		var peak int64
		for i := 0; i < b.N; i++ {
			took, rss := openInChild(b, dir)
			b.Logf("open %d: %v, peak RSS %d MiB", i+1, took, rss>>10)
			total += took
			peak = max(peak, rss)
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "open-ms")
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
	})
}

// benchRecords is DEWIRE_SINK_BENCH_RECORDS, 100,000 by default.
func benchRecords(b *testing.B) int {
	n := 100_000
	if s := os.Getenv("DEWIRE_SINK_BENCH_RECORDS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 100 {
			b.Fatalf("DEWIRE_SINK_BENCH_RECORDS=%q: want a number ≥ 100", s)
		}
	}
	return n
}

// BenchmarkOpenTMX measures the TMX writer's start-up on an archive of
// DEWIRE_SINK_BENCH_RECORDS records (default 100,000) of two sentence pairs
// each, as BenchmarkOpenJSONL does for the JSONL: the time OpenTMX takes
// and the peak RSS of a process that only opens it. The first open, which
// builds what later ones start from, is logged apart.
//
//	DEWIRE_SINK_BENCH_RECORDS=1000000 go test -run '^$' -bench OpenTMX -benchtime 3x ./workers/sink/
func BenchmarkOpenTMX(b *testing.B) {
	n := benchRecords(b)
	dir := b.TempDir()
	writeTMXArchive(b, dir, n)
	first, firstRSS := openKindInChild(b, "tmx", dir)
	b.Logf("%d records: first open %v, peak RSS %d MiB", n, first, firstRSS>>10)
	b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
		var total time.Duration
		var peak int64
		for i := 0; i < b.N; i++ {
			took, rss := openKindInChild(b, "tmx", dir)
			b.Logf("open %d: %v, peak RSS %d MiB", i+1, took, rss>>10)
			total += took
			peak = max(peak, rss)
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "open-ms")
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
	})
}

// BenchmarkTMXWrite stores distinct records of 13 sentence pairs (about 3 KB
// of text, like BenchmarkJSONLWrite's) one after another, each synced.
//
//	go test -run '^$' -bench TMXWrite -benchmem ./workers/sink/
func BenchmarkTMXWrite(b *testing.B) {
	t, err := sink.OpenTMX(b.TempDir(), record.TMXHeader{})
	if err != nil {
		b.Fatal(err)
	}
	defer t.Close()
	sentence := "Der Präsident sagte am Montag in Baku, die Gespräche würden fortgesetzt."
	segs := []article.Segment{{Para: article.ParaTitle, DE: "Titel", EN: "Title"}}
	for range 12 {
		segs = append(segs, article.Segment{Para: 0, DE: sentence, EN: "The president said in Baku on Monday that the talks would continue."})
	}
	ctx := context.Background()
	record := func(i int64) *article.Article {
		return &article.Article{
			Schema: article.Schema, ID: fmt.Sprintf("w%08d", i), Rev: 1, Hash: fmt.Sprintf("%016x", i),
			Source:   article.Source{Name: "wire", IngestedAt: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)},
			Segments: segs,
		}
	}
	b.ReportAllocs()
	b.Run("one-writer", func(b *testing.B) {
		var next atomic.Int64
		for b.Loop() {
			if err := t.Write(ctx, record(next.Add(1))); err != nil {
				b.Fatal(err)
			}
		}
	})
	// 64 writers at once, as the sink consumer writes: one sync serves
	// every writer waiting for it.
	b.Run("64-writers", func(b *testing.B) {
		var next atomic.Int64
		next.Store(1 << 40)
		b.SetParallelism(32)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := t.Write(ctx, record(next.Add(1))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkJSONLWrite stores distinct 3 KB records from 64 writers at once,
// as the sink consumer does (group commit, fsync per batch).
//
//	go test -run '^$' -bench JSONLWrite -benchmem ./workers/sink/
func BenchmarkJSONLWrite(b *testing.B) {
	j, err := sink.OpenJSONL(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	para := strings.Repeat("Der Präsident sagte am Montag in Baku, die Gespräche würden fortgesetzt. ", 12)
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			a := &article.Article{
				Schema: article.Schema, ID: fmt.Sprintf("w%08d", i), Rev: 1, Hash: fmt.Sprintf("%016x", i),
				Source: article.Source{Name: "wire", IngestedAt: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)},
				DE:     article.Text{Title: "Titel", Paragraphs: []string{para, para}},
				EN:     &article.Text{Title: "Title", Paragraphs: []string{para, para}},
			}
			if _, err := j.Write(a); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
