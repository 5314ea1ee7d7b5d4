package ddp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"weaksup/torch"
)

// LaunchOptions configure LaunchLocal.
type LaunchOptions struct {
	N    int      // ranks to start
	Exe  string   // the program (default: this executable)
	Args []string // its arguments, without --nproc-per-node
	Env  []string // the environment the ranks start from (default: this process's)
	// Stdout and Stderr receive the ranks' output; lines of ranks other
	// than 0 are prefixed "[rank N] ". Nil discards it.
	Stdout, Stderr io.Writer
	// Grace is how long the other ranks get, after one fails, to report
	// the failure themselves before they are stopped (default 10s).
	Grace time.Duration
	// StoreTimeout bounds the launcher's store operations (default
	// DefaultTimeout).
	StoreTimeout time.Duration
}

// ErrRankFailed is wrapped by the error of LaunchLocal when a rank exits
// with an error or is killed.
var ErrRankFailed = errors.New("rank failed")

// LaunchLocal starts N data-parallel ranks of a command on this machine and
// waits for them, as torchrun --standalone does. It hosts the rendezvous
// store itself on a loopback port the kernel picks (bound before any rank
// starts, so two launches never race for a port) and gives rank r the
// environment a launcher gives: RANK, LOCAL_RANK, WORLD_SIZE,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
// TORCHELASTIC_USE_AGENT_STORE=True, and OMP_NUM_THREADS = cores / N
// unless set. If a rank fails, the others get Grace to report it, then
// SIGTERM (they checkpoint as on Ctrl-C), then SIGKILL; the error names
// the rank. A cancelled ctx sends SIGTERM to every rank.
func LaunchLocal(ctx context.Context, o LaunchOptions) error {
	if o.N < 1 {
		return fmt.Errorf("launch: %d ranks, want ≥ 1", o.N)
	}
	if o.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("launch: find this executable: %w", err)
		}
		o.Exe = exe
	}
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	if o.StoreTimeout <= 0 {
		o.StoreTimeout = DefaultTimeout
	}
	store, err := torch.NewStore(torch.StoreOptions{Host: "127.0.0.1", Server: true, Timeout: o.StoreTimeout})
	if err != nil {
		return fmt.Errorf("launch: host the rendezvous store: %w", err)
	}
	defer store.Close()

	// The ranks write at once: rank 0 through exec's copy, the others
	// through their prefixWriters.
	var outMu sync.Mutex
	o.Stdout, o.Stderr = serialized(o.Stdout, &outMu), serialized(o.Stderr, &outMu)

	threads := ""
	if !hasEnv(o.Env, "OMP_NUM_THREADS") {
		threads = strconv.Itoa(max(1, runtime.NumCPU()/o.N))
	}
	type exit struct {
		rank int
		err  error
	}
	exits := make(chan exit, o.N)
	cmds := make([]*exec.Cmd, o.N)
	var outs []*prefixWriter
	for r := range o.N {
		cmd := exec.Command(o.Exe, o.Args...)
		cmd.Env = append(withoutEnv(o.Env, "RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
			"GROUP_RANK", torch.EnvAgentStore, torch.EnvRestarts),
			"RANK="+strconv.Itoa(r), "LOCAL_RANK="+strconv.Itoa(r), "GROUP_RANK=0",
			"WORLD_SIZE="+strconv.Itoa(o.N), "LOCAL_WORLD_SIZE="+strconv.Itoa(o.N),
			"MASTER_ADDR=127.0.0.1", "MASTER_PORT="+strconv.Itoa(store.Port()),
			torch.EnvAgentStore+"=True", torch.EnvRestarts+"=0")
		if threads != "" {
			cmd.Env = append(cmd.Env, "OMP_NUM_THREADS="+threads)
		}
		cmd.Stdout, cmd.Stderr = o.Stdout, o.Stderr
		if r > 0 {
			prefix := fmt.Sprintf("[rank %d] ", r)
			so, se := newPrefixWriter(o.Stdout, prefix), newPrefixWriter(o.Stderr, prefix)
			outs = append(outs, so, se)
			cmd.Stdout, cmd.Stderr = so, se
		}
		if err := cmd.Start(); err != nil {
			for _, c := range cmds[:r] {
				c.Process.Kill()
				c.Wait()
			}
			return fmt.Errorf("launch rank %d: %w", r, err)
		}
		cmds[r] = cmd
		go func() { exits <- exit{r, cmd.Wait()} }()
	}
	defer func() {
		for _, w := range outs {
			w.Flush()
		}
	}()

	signal := func(sig syscall.Signal, done []bool) {
		for r, c := range cmds {
			if !done[r] {
				c.Process.Signal(sig)
			}
		}
	}
	done := make([]bool, o.N)
	var first *exit
	var grace, kill <-chan time.Time
	interrupted := false
	ctxDone := ctx.Done()
	for left := o.N; left > 0; {
		select {
		case e := <-exits:
			left--
			done[e.rank] = true
			if e.err != nil && first == nil {
				first = &e
				if o.Stderr != nil {
					fmt.Fprintf(o.Stderr, "launch: rank %d of %d (pid %d) %v; stopping the other ranks\n", e.rank, o.N, cmds[e.rank].Process.Pid, exitText(e.err))
				}
				grace = time.After(o.Grace)
			}
		case <-grace:
			signal(syscall.SIGTERM, done)
			kill = time.After(10 * time.Second)
		case <-kill:
			signal(syscall.SIGKILL, done)
		case <-ctxDone:
			ctxDone = nil
			interrupted = true
			signal(syscall.SIGTERM, done)
			kill = time.After(30 * time.Second)
		}
	}
	switch {
	case first != nil && (interrupted || exitCode(first.err) == 130):
		return fmt.Errorf("launch: rank %d of %d %v: %w", first.rank, o.N, exitText(first.err), context.Canceled)
	case first != nil:
		return fmt.Errorf("launch: rank %d of %d %v: %w", first.rank, o.N, exitText(first.err), ErrRankFailed)
	case interrupted:
		return ctx.Err()
	}
	return nil
}

// exitText describes how a rank ended: "exited with status 1", "was
// killed by signal killed".
func exitText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "was killed by signal " + ws.Signal().String()
		}
		return fmt.Sprintf("exited with status %d", ee.ExitCode())
	}
	return err.Error()
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

func hasEnv(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

func withoutEnv(env []string, names ...string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// WithoutFlag returns args without the flag name and its value (as
// "--name V", "--name=V", "-name V" or "-name=V").
func WithoutFlag(args []string, name string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		bare := strings.TrimLeft(a, "-")
		if (strings.HasPrefix(a, "-")) && bare == name {
			i++ // its value
			continue
		}
		if strings.HasPrefix(a, "-") && strings.HasPrefix(bare, name+"=") {
			continue
		}
		out = append(out, a)
	}
	return out
}

// serialized returns w made safe for concurrent writers: a file as it is
// (the kernel keeps each write whole, and rank 0 keeps its terminal), any
// other writer behind mu.
func serialized(w io.Writer, mu *sync.Mutex) io.Writer {
	if _, ok := w.(*os.File); ok || w == nil {
		return w
	}
	return &lockedWriter{mu: mu, w: w}
}

// lockedWriter is a writer whose writes hold mu.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// prefixWriter writes whole lines to w, each with a prefix.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix []byte
	buf    []byte
}

func newPrefixWriter(w io.Writer, prefix string) *prefixWriter {
	if w == nil {
		w = io.Discard
	}
	return &prefixWriter{w: w, prefix: []byte(prefix)}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		// A progress bar redraws its line with \r; a line ends at either.
		i := bytes.IndexAny(p.buf, "\n\r")
		if i < 0 {
			break
		}
		line := append(append(append([]byte(nil), p.prefix...), p.buf[:i]...), p.buf[i])
		p.buf = p.buf[i+1:]
		if _, err := p.w.Write(line); err != nil {
			return len(b), err
		}
	}
	return len(b), nil
}

// Flush writes a last unterminated line.
func (p *prefixWriter) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		p.w.Write(append(append(append([]byte(nil), p.prefix...), p.buf...), '\n'))
		p.buf = nil
	}
}
