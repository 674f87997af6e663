package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/dewire/dewire/workers/local"
)

// Progress modes of `dewire run --progress`.
var progressModes = []string{"auto", "bar", "plain", "none"}

// progressMode resolves auto: a bar on a terminal, plain lines otherwise.
func progressMode(mode string, w io.Writer) string {
	if mode != "auto" {
		return mode
	}
	if f, ok := w.(interface{ Fd() uintptr }); ok && isTerminal(w) {
		// A terminal that reports no width (a bare pty) cannot lay out a bar.
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return "bar"
		}
	}
	return "plain"
}

// runProgress follows a run's counts. Every input item ends clean,
// rejected, dead-lettered or a duplicate, so those over the items read are
// the fraction done; the total is fixed once the inputs are read.
type runProgress struct {
	mode     string
	w        io.Writer
	logs     *switchWriter // the log, routed above the bar while it draws
	interval time.Duration
	stats    func() local.Stats
	start    time.Time

	mu        sync.Mutex
	last      local.Stats
	inputsIn  bool // every input has been read
	stopTick  chan struct{}
	tickDone  chan struct{}
	container *mpb.Progress
	bar       *mpb.Bar
	// plain lines: the counts last printed (only the ticker goroutine uses them)
	printed     bool
	lastPrinted local.Stats
}

func newRunProgress(w io.Writer, mode string, interval time.Duration, logs *switchWriter, stats func() local.Stats) *runProgress {
	return &runProgress{mode: progressMode(mode, w), w: w, logs: logs, interval: interval, stats: stats, start: time.Now()}
}

// settled is how many items have reached their end.
func settled(st local.Stats) int {
	return st.Clean + st.DeadLettered + st.Rejected + st.Duplicates
}

// rateETA is the items settled per second and, once the total is known,
// the time left at that rate (negative when unknown).
func (r *runProgress) rateETA(st local.Stats, inputsIn bool) (float64, time.Duration) {
	el := time.Since(r.start).Seconds()
	done := settled(st)
	if el <= 0 || done == 0 {
		return 0, -1
	}
	rate := float64(done) / el
	if !inputsIn {
		return rate, -1
	}
	left := max(st.Read-done, 0)
	return rate, time.Duration(float64(left) / rate * float64(time.Second)).Round(time.Second)
}

func (r *runProgress) snapshot() (local.Stats, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last, r.inputsIn
}

// counts is the line of counts both displays show.
func counts(st local.Stats) string {
	return fmt.Sprintf("clean %d · rejected %d · dead-lettered %d · duplicates %d", st.Clean, st.Rejected, st.DeadLettered, st.Duplicates)
}

func etaText(eta time.Duration) string {
	if eta < 0 {
		return "ETA –"
	}
	return "ETA " + eta.String()
}

// begin starts the display.
func (r *runProgress) begin() {
	if r.mode != "bar" && r.mode != "plain" {
		return
	}
	r.stopTick, r.tickDone = make(chan struct{}), make(chan struct{})
	every := r.interval
	if r.mode == "bar" {
		r.startBar()
		every = 100 * time.Millisecond
	}
	go func() {
		defer close(r.tickDone)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-r.stopTick:
				return
			case <-t.C:
				r.tick()
			}
		}
	}()
}

func (r *runProgress) startBar() {
	r.container = mpb.New(mpb.WithOutput(r.w), mpb.WithWidth(24), mpb.WithRefreshRate(120*time.Millisecond),
		mpb.ContainerOptional(mpb.ForceTTY(), !isTerminal(r.w)))
	total := func(decor.Statistics) string {
		st, in := r.snapshot()
		if in {
			return fmt.Sprintf("%d/%d", settled(st), st.Read)
		}
		return fmt.Sprintf("%d/%d+ reading", settled(st), st.Read)
	}
	rate := func(decor.Statistics) string {
		st, in := r.snapshot()
		rate, eta := r.rateETA(st, in)
		return fmt.Sprintf("%.1f/s · %s", rate, etaText(eta))
	}
	r.bar = r.container.New(0, mpb.BarStyle().Lbound("[").Filler("#").Tip("#").Padding(".").Rbound("]"),
		mpb.PrependDecorators(decor.Any(total, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Any(rate, decor.WCSyncSpace), decor.Any(func(decor.Statistics) string {
			st, _ := r.snapshot()
			return " · " + counts(st)
		})),
	)
	if r.logs != nil {
		r.logs.set(r.container)
	}
}

func (r *runProgress) tick() {
	st := r.stats()
	r.mu.Lock()
	r.last = st
	in := r.inputsIn
	r.mu.Unlock()
	switch r.mode {
	case "bar":
		r.bar.SetTotal(int64(st.Read), false)
		r.bar.SetCurrent(int64(settled(st)))
	case "plain":
		if r.printed && st == r.lastPrinted {
			return // nothing new: an idle --watch stays quiet
		}
		r.printed, r.lastPrinted = true, st
		rate, eta := r.rateETA(st, in)
		total := fmt.Sprintf("%d/%d+ (reading)", settled(st), st.Read)
		if in {
			total = fmt.Sprintf("%d/%d", settled(st), st.Read)
		}
		fmt.Fprintf(r.w, "progress: %s · %.1f/s · %s · %s\n", total, rate, etaText(eta), counts(st))
	}
}

// inputsRead fixes the total: nothing more will be read.
func (r *runProgress) inputsRead() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inputsIn = true
}

// end stops the display, leaving the bar's last state on screen (complete,
// or where it stood when the run was interrupted), and gives the log its
// writer back.
func (r *runProgress) end(interrupted bool) {
	if r.stopTick == nil {
		return
	}
	close(r.stopTick)
	<-r.tickDone
	if r.mode != "bar" {
		return
	}
	r.tick()
	if interrupted {
		// The terminal echoed ^C where the cursor stood; back to the
		// line's start, so the last frame is drawn where the bar is.
		fmt.Fprint(r.w, "\r")
		r.bar.Abort(false)
	} else {
		r.bar.SetTotal(-1, true)
	}
	r.container.Wait()
	if r.logs != nil {
		r.logs.set(r.w)
	}
}
