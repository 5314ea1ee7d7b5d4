// Package ddptest is what the tests that run data-parallel ranks as
// processes share: a process on one of package twohost's hosts with its
// output (Proc), the environment of a launch across the two hosts, the
// command line of torchrun on a host, and a bit-for-bit comparison of two
// safetensors files. It does not import package ddp, whose own tests use
// it.
package ddptest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"weaksup/internal/twohost"
	"weaksup/nets"
	"weaksup/torch"
)

// Port is MASTER_PORT on host A (each pair of hosts is a network of its
// own, so concurrent tests never share a port).
const Port = 29500

// FaultTimeout is the collective timeout (--dist-timeout) of the fault
// tests: long enough that no test ends by waiting for it, so a rank that
// ends within seconds was ended by the heartbeats.
const FaultTimeout = 10 * time.Minute

// LauncherEnv names the variables of launchers and Gloo: a rank gets only
// those its test sets. (GLOO_SOCKET_IFNAME is ddp.EnvGlooIfname, spelled
// out: this package cannot import ddp.)
var LauncherEnv = []string{"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR", "MASTER_PORT",
	"GLOO_SOCKET_IFNAME", torch.EnvAgentStore, torch.EnvRestarts, "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_STEP_ID",
	"SLURM_JOB_ID", "SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", "SLURM_NTASKS_PER_NODE"}

// Environ returns this process's environment less LauncherEnv.
func Environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(LauncherEnv, name) {
			out = append(out, kv)
		}
	}
	return out
}

// EnvLaunch is the environment of rank r of two under weaksup's
// environment launch (a PyTorchJob's, or anything that sets the variables
// by hand): MASTER_ADDR is host A, where rank 0 hosts the store.
func EnvLaunch(rank int) []string {
	return []string{"RANK=" + strconv.Itoa(rank), "WORLD_SIZE=2", "LOCAL_RANK=0", "LOCAL_WORLD_SIZE=1",
		"MASTER_ADDR=" + twohost.AddrA, "MASTER_PORT=" + strconv.Itoa(Port)}
}

// TorchrunOn returns the command line of Debian's torchrun 1.13 on node
// rank of a two-node static rendezvous on host A (rank 0's agent hosts the
// store), one worker per node running this test binary, with extra flags.
// torchrun 1.13 spells its flags with underscores and needs -r, -t and
// --log_dir on Python 3.11.
func TorchrunOn(t testing.TB, rank int, extra ...string) []string {
	t.Helper()
	torchrun, err := exec.LookPath("torchrun")
	if err != nil {
		t.Fatalf("torchrun (python3-torch) is not installed: %v", err)
	}
	args := []string{torchrun, "--nnodes=2", "--node_rank=" + strconv.Itoa(rank), "--nproc_per_node=1",
		"--master_addr=" + twohost.AddrA, "--master_port=" + strconv.Itoa(Port), "-r", "1", "-t", "1",
		"--log_dir", t.TempDir()}
	args = append(args, extra...)
	return append(args, "--no_python", os.Args[0], "-test.run=^$")
}

// Proc is a process running on one of the hosts. Err and End are set once
// Done is closed.
type Proc struct {
	Name string // "rank 1 on hostb"
	Cmd  *exec.Cmd
	Err  error     // what Wait returned
	End  time.Time // when it ended

	out  lockedBuffer
	done chan struct{}
}

// lockedBuffer is a buffer the process's output goroutines and the test
// share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start starts name with args on h, with Environ plus env; what names it
// in messages. The process is killed when the test ends.
func Start(t testing.TB, h *twohost.Host, what string, env []string, name string, args ...string) *Proc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proc{Name: what + " on " + h.Name, Cmd: h.Command(ctx, name, args...), done: make(chan struct{})}
	p.Cmd.Env = append(Environ(), env...)
	p.Cmd.Stdout, p.Cmd.Stderr = &p.out, &p.out
	if err := p.Cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", p.Name, err)
	}
	go func() {
		p.Err = p.Cmd.Wait()
		p.End = time.Now()
		close(p.done)
	}()
	t.Cleanup(func() { cancel(); <-p.done })
	return p
}

// Output is what the process has written to stdout and stderr so far.
func (p *Proc) Output() string { return p.out.String() }

// Done is closed when the process has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits for p to end and returns its error, failing the test if it
// runs longer than limit (a bound on hanging, never a speed check).
func (p *Proc) Wait(t testing.TB, limit time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.Err
	case <-time.After(limit):
		t.Fatalf("%s still runs after %v; its output:\n%s", p.Name, limit, p.Output())
		return nil
	}
}

// SameTensors reports the first tensor that differs between two
// safetensors files, bit for bit ("" when none does).
func SameTensors(t testing.TB, a, b string) string {
	t.Helper()
	x, _, err := nets.LoadTensors(a)
	if err != nil {
		t.Fatal(err)
	}
	y, _, err := nets.LoadTensors(b)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, p := range append(x, y...) {
			p.Tensor.Close()
		}
	}()
	if len(x) != len(y) || len(x) == 0 {
		return fmt.Sprintf("%d tensors against %d", len(x), len(y))
	}
	for i := range x {
		u, _ := x[i].Tensor.Bytes()
		v, _ := y[i].Tensor.Bytes()
		if x[i].Name != y[i].Name || !bytes.Equal(u, v) {
			return x[i].Name
		}
	}
	return ""
}
