package chaos

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc supervises one OS process the way a container runtime would: it
// restarts it whenever it exits, after a planned kill (with the delay the
// killer chose) and after a crash (after a second, recorded as a crash). The
// process runs in its own process group so a kill reaches all of it.
type proc struct {
	name    string
	kind    string // ingest, normalize, translate, sink, nats
	argv    []string
	env     []string
	logPath string

	mu       sync.Mutex
	cur      *exec.Cmd
	exited   chan struct{} // closed when cur has exited
	planned  bool          // the current exit was caused by a kill
	delay    time.Duration // how long to stay down after a planned kill
	stopping bool
	starts   int
	crashes  []crash // unplanned exits
	done     chan struct{}
}

// termTimeout is how long a process may take to exit after a planned SIGTERM.
const termTimeout = 20 * time.Second

// crash is one unplanned exit (or failed start) of a supervised process.
type crash struct {
	at   time.Time
	what string // exit status and the last log line
}

func newProc(name, kind, logPath string, argv, env []string) *proc {
	return &proc{name: name, kind: kind, argv: argv, env: env, logPath: logPath, done: make(chan struct{})}
}

// supervise keeps the process running until stop or ctx ends.
func (p *proc) supervise(ctx context.Context) {
	defer close(p.done)
	for {
		exited, err := p.start()
		if err != nil {
			p.recordCrash(fmt.Sprintf("start failed: %v", err))
			if !sleepCtx(ctx, time.Second) {
				return
			}
			continue
		}
		var status string
		select {
		case <-ctx.Done():
			p.forceKill()
			<-exited
			return
		case <-exited:
			status = p.cur.ProcessState.String()
		}
		p.mu.Lock()
		planned, delay, stopping := p.planned, p.delay, p.stopping
		p.planned, p.delay = false, 0
		p.mu.Unlock()
		if stopping {
			return
		}
		if !planned {
			p.recordCrash(fmt.Sprintf("%s; last log line: %s", status, lastLine(p.logPath)))
			delay = time.Second
		}
		if !sleepCtx(ctx, delay) {
			return
		}
		p.mu.Lock()
		stopping = p.stopping
		p.mu.Unlock()
		if stopping {
			return
		}
	}
}

func (p *proc) start() (chan struct{}, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping {
		return nil, fmt.Errorf("%s: stopping", p.name)
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", p.name, err)
	}
	p.starts++
	fmt.Fprintf(logf, "=== chaos: start %d of %s at %s: %s\n", p.starts, p.name, time.Now().UTC().Format(time.RFC3339Nano), strings.Join(p.argv, " "))
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", p.name, err)
	}
	exited := make(chan struct{})
	p.cur, p.exited = cmd, exited
	go func() {
		cmd.Wait()
		logf.Close()
		close(exited)
	}()
	return exited, nil
}

func (p *proc) recordCrash(what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.crashes = append(p.crashes, crash{at: time.Now().UTC(), what: what})
}

// running reports whether the process is up now.
func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil || p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// kill sends sig (SIGKILL, or SIGTERM for a clean stop) to the process group
// and has the supervisor restart it after down; false when it was not running.
func (p *proc) kill(sig syscall.Signal, down time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil || p.stopping || p.planned {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
	}
	p.planned, p.delay = true, down
	pid, exited := p.cur.Process.Pid, p.exited
	_ = syscall.Kill(-pid, sig)
	if sig != syscall.SIGKILL {
		go func() {
			select {
			case <-exited:
			case <-time.After(termTimeout):
				p.recordCrash(fmt.Sprintf("did not exit within %s of %s; killed", termTimeout, sig))
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
		}()
	}
	return true
}

// signal sends sig to the process group (SIGSTOP, SIGCONT).
func (p *proc) signal(sig syscall.Signal) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil || p.cur.Process == nil {
		return false
	}
	return syscall.Kill(-p.cur.Process.Pid, sig) == nil
}

// stop ends supervision with SIGTERM (SIGCONT first, in case it is
// stopped), then SIGKILL after grace. It returns the exit status of the last
// run, "" when it was not running.
func (p *proc) stop(grace time.Duration) string {
	p.mu.Lock()
	p.stopping = true
	cmd, exited := p.cur, p.exited
	p.mu.Unlock()
	status := ""
	if cmd != nil && exited != nil {
		select {
		case <-exited:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGCONT)
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-exited:
				status = cmd.ProcessState.String()
			case <-time.After(grace):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
				status = "killed after " + grace.String() + " of SIGTERM"
			}
		}
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	return status
}

// forceKill kills the process group at once and ends supervision.
func (p *proc) forceKill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopping = true
	if p.cur != nil && p.cur.Process != nil {
		_ = syscall.Kill(-p.cur.Process.Pid, syscall.SIGKILL)
	}
}

// crashList describes the unplanned exits, alike ones as one line, and
// counts them.
func (p *proc) crashList() ([]string, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var order []string
	groups := map[string][]time.Time{}
	for _, c := range p.crashes {
		if _, ok := groups[c.what]; !ok {
			order = append(order, c.what)
		}
		groups[c.what] = append(groups[c.what], c.at)
	}
	var out []string
	for _, what := range order {
		at := groups[what]
		when := at[0].Format("15:04:05")
		if len(at) > 1 {
			when += " to " + at[len(at)-1].Format("15:04:05")
		}
		out = append(out, fmt.Sprintf("%d× (%s) %s", len(at), when, what))
	}
	return out, len(p.crashes)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// lastLine returns the last non-empty line of a log file (at most 400 bytes).
func lastLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(0, st.Size()-4096)
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) == 0 {
		return ""
	}
	l := string(lines[len(lines)-1])
	if len(l) > 400 {
		l = l[:400] + "…"
	}
	return l
}
