package train

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"weaksup/internal/twohost"
	"weaksup/torch"
)

// The tests of data-parallel training across hosts run one rank on each of
// two hosts made by package twohost (network namespaces: each its own
// loopback, host name and /etc/hosts, joined by a link with TEST-NET-1
// addresses), each rank this test binary started with `ip netns exec`.

// hostPort is MASTER_PORT on host A (each pair of hosts is a network of
// its own, so concurrent tests never share a port).
const hostPort = 29500

// rankEnvNames are the variables of launchers and Gloo: a rank gets only
// those its test sets.
var rankEnvNames = []string{"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR", "MASTER_PORT",
	EnvGlooIfname, torch.EnvAgentStore, torch.EnvRestarts, "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_STEP_ID",
	"SLURM_JOB_ID", "SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", "SLURM_NTASKS_PER_NODE", ddpJobEnv}

// envLaunch is the environment of rank r under weaksup's environment
// launch (a PyTorchJob's, or anything that sets the variables by hand):
// MASTER_ADDR is host A, where rank 0 hosts the store.
func envLaunch(rank int) []string {
	return []string{"RANK=" + strconv.Itoa(rank), "WORLD_SIZE=2", "LOCAL_RANK=0", "LOCAL_WORLD_SIZE=1",
		"MASTER_ADDR=" + twohost.AddrA, "MASTER_PORT=" + strconv.Itoa(hostPort)}
}

// slurmLaunch is the environment srun gives task r of a two-node step:
// MASTER_ADDR comes from the node list (hosta, which each host's
// /etc/hosts resolves), MASTER_PORT from the job id.
func slurmLaunch(rank int) []string {
	return []string{"SLURM_PROCID=" + strconv.Itoa(rank), "SLURM_NTASKS=2", "SLURM_LOCALID=0", "SLURM_STEP_ID=0",
		"SLURM_JOB_ID=4242", "SLURM_STEP_NODELIST=hosta,hostb", "SLURM_NTASKS_PER_NODE=1"}
}

// hostProc is a process running on one of the hosts.
type hostProc struct {
	name string // "rank 1 on hostb"
	cmd  *exec.Cmd
	out  lockedBuffer
	done chan struct{}
	err  error
	end  time.Time
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

// startOn starts name with args on h, with this process's environment less
// the launchers' variables, plus env. The process is killed when the test
// ends.
func startOn(t testing.TB, h *twohost.Host, what string, env []string, name string, args ...string) *hostProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &hostProc{name: what + " on " + h.Name, cmd: h.Command(ctx, name, args...), done: make(chan struct{})}
	p.cmd.Env = append(withoutEnv(os.Environ(), rankEnvNames...), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", p.name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.end = time.Now()
		close(p.done)
	}()
	t.Cleanup(func() { cancel(); <-p.done })
	return p
}

// wait waits for p to end, failing the test if it runs longer than limit
// (a bound on hanging, never a speed check).
func (p *hostProc) wait(t testing.TB, limit time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(limit):
		t.Fatalf("%s still runs after %v; its output:\n%s", p.name, limit, p.out.String())
		return nil
	}
}

// startJob starts job as rank 0 on host A and rank 1 on host B, each with
// launch's environment for its rank and env.
func startJob(t testing.TB, p *twohost.Pair, job ddpJob, launch func(int) []string, env ...string) [2]*hostProc {
	t.Helper()
	spec, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	var ranks [2]*hostProc
	for r, h := range []*twohost.Host{p.A, p.B} {
		e := append(append(launch(r), env...), ddpJobEnv+"="+string(spec))
		ranks[r] = startOn(t, h, "rank "+strconv.Itoa(r), e, os.Args[0], "-test.run=^$")
	}
	return ranks
}

// runJob runs job on both hosts and fails the test unless both ranks
// succeed.
func runJob(t testing.TB, p *twohost.Pair, job ddpJob, launch func(int) []string, env ...string) [2]*hostProc {
	t.Helper()
	ranks := startJob(t, p, job, launch, env...)
	for _, r := range ranks {
		if err := r.wait(t, 5*time.Minute); err != nil {
			t.Fatalf("%s: %v\n%s\nthe other rank:\n%s", r.name, err, r.out.String(), otherOut(ranks, r))
		}
	}
	return ranks
}

func otherOut(ranks [2]*hostProc, r *hostProc) string {
	if ranks[0] == r {
		return ranks[1].out.String()
	}
	return ranks[0].out.String()
}

// sameAsReference fails the test unless the final checkpoint of the run in
// out equals ref's bit for bit (weights and momentum), and both ranks ended
// with those weights.
func sameAsReference(t *testing.T, ref, out string, steps int) {
	t.Helper()
	for _, f := range []string{ModelFile, OptimizerFile} {
		a := filepath.Join(CheckpointsDir(ref), CheckpointName(steps), f)
		b := filepath.Join(CheckpointsDir(out), CheckpointName(steps), f)
		if diff := sameTensors(t, a, b); diff != "" {
			t.Errorf("%s: %s differs from the run on loopback", f, diff)
		}
	}
	if diff := sameTensors(t, filepath.Join(out, "rank-0.safetensors"), filepath.Join(out, "rank-1.safetensors")); diff != "" {
		t.Errorf("the ranks on the two hosts end with different weights: %s", diff)
	}
}

// faultLine is what a rank prints before it injects a fault (faultAt).
var faultLine = regexp.MustCompile(`fault: (\S+) at (\d+)`)

// faultTime waits for rank r to report its fault and returns when it
// happened.
func faultTime(t testing.TB, r *hostProc) time.Time {
	t.Helper()
	for ended := false; ; {
		if m := faultLine.FindStringSubmatch(r.out.String()); m != nil {
			ns, _ := strconv.ParseInt(m[2], 10, 64)
			return time.Unix(0, ns)
		}
		if ended {
			t.Fatalf("%s ended (%v) before its fault:\n%s", r.name, r.err, r.out.String())
		}
		select {
		case <-r.done:
			ended = true // its output is all in
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// lostWindow is how long the heartbeat watcher waits before a silent rank
// or store is lost; lostBound bounds how long after a fault every rank must
// have ended: many windows, for a busy machine, and still far inside the
// collective timeout of the fault tests (faultTimeout).
var (
	lostWindow   = torch.LostAfterBeats * torch.HeartbeatInterval
	lostBound    = 20 * lostWindow
	faultTimeout = 10 * time.Minute
)

// mustFailWithin waits for every rank of a faulty run: each must fail,
// within lostBound of the fault, with an error containing its want.
func mustFailWithin(t *testing.T, ranks [2]*hostProc, fault time.Time, want [2][]string) {
	t.Helper()
	for i, r := range ranks {
		err := r.wait(t, lostBound+time.Minute)
		if err == nil {
			t.Fatalf("%s succeeded after the fault:\n%s", r.name, r.out.String())
		}
		took := r.end.Sub(fault)
		if took > lostBound {
			t.Errorf("%s ended %v after the fault, want within %v (the collective timeout is %v)", r.name, took, lostBound, faultTimeout)
		}
		for _, w := range want[i] {
			if !strings.Contains(r.out.String(), w) {
				t.Errorf("%s's output lacks %q:\n%s", r.name, w, r.out.String())
			}
		}
		t.Logf("%s ended %v after the fault: %s", r.name, took.Round(10*time.Millisecond), lastLine(r.out.String()))
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// hostsJob is the job of the two-host tests: the reference job of the
// loopback tests, with a collective timeout no fault test may wait for.
func hostsJob(out string) ddpJob {
	job := refJob(out)
	job.DistTimeout = faultTimeout
	return job
}

// TestTwoHosts trains the reference job on loopback, then across two
// hosts: launched through the environment (MASTER_ADDR = host A) and
// through Slurm's variables, with no GLOO_SOCKET_IFNAME, each must end
// bit-identical to loopback; with a link cut mid-step, or rank 1 killed,
// every rank must end within a few heartbeat windows naming the lost rank
// and its host, and --resume must then end bit-identical too; a stopped
// rank and a store unreachable at the start must end the job; a slow,
// lossy network is no fault.
func TestTwoHosts(t *testing.T) {
	ref := t.TempDir()
	mustLaunchDDP(t, hostsJob(ref), 2)

	t.Run("environment launch", func(t *testing.T) {
		out := t.TempDir()
		ranks := runJob(t, twohost.New(t, twohost.Options{}), hostsJob(out), envLaunch)
		sameAsReference(t, ref, out, refSteps)
		if want := "rank 0 at 192.0.2.1 (the route to MASTER_ADDR=192.0.2.1 leaves by eth0 (192.0.2.1))"; !strings.Contains(ranks[0].out.String(), want) {
			t.Errorf("rank 0's log lacks %q:\n%s", want, ranks[0].out.String())
		}
	})

	t.Run("slurm", func(t *testing.T) {
		out := t.TempDir()
		runJob(t, twohost.New(t, twohost.Options{}), hostsJob(out), slurmLaunch)
		sameAsReference(t, ref, out, refSteps)
	})

	t.Run("cut link", func(t *testing.T) {
		p := twohost.New(t, twohost.Options{})
		out := t.TempDir()
		job := hostsJob(out)
		// Rank 1 cuts its link asking for its 11th batch: step 6, after
		// the checkpoint of step 4.
		job.CutAt = 11
		ranks := startJob(t, p, job, envLaunch)
		mustFailWithin(t, ranks, faultTime(t, ranks[1]), [2][]string{
			{"lost rank 1 of 2 on hostb (192.0.2.2)", "no heartbeat"},
			{"lost rank 0 of 2 on hosta (192.0.2.1)", "it hosts the store: no answer from the rendezvous store at 192.0.2.1:29500"}})
		if err := p.B.Restore(); err != nil {
			t.Fatal(err)
		}
		resume(t, p, ref, out, 4)
	})

	t.Run("killed", func(t *testing.T) {
		p := twohost.New(t, twohost.Options{})
		out := t.TempDir()
		job := hostsJob(out)
		job.KillAt = 11
		ranks := startJob(t, p, job, envLaunch)
		mustFailWithin(t, ranks, faultTime(t, ranks[1]), [2][]string{{"lost rank 1 of 2 on hostb (192.0.2.2)"}, {}})
		if !strings.Contains(ranks[1].err.Error(), "killed") {
			t.Errorf("rank 1: %v, want killed", ranks[1].err)
		}
		resume(t, p, ref, out, 4)
	})

	t.Run("stopped", func(t *testing.T) {
		p := twohost.New(t, twohost.Options{})
		out := t.TempDir()
		job := hostsJob(out)
		job.StopAt = 11
		ranks := startJob(t, p, job, envLaunch)
		fault := faultTime(t, ranks[1])
		if err := ranks[0].wait(t, lostBound+time.Minute); err == nil {
			t.Fatalf("rank 0 succeeded with rank 1 stopped:\n%s", ranks[0].out.String())
		}
		if took := ranks[0].end.Sub(fault); took > lostBound {
			t.Errorf("rank 0 ended %v after rank 1 stopped, want within %v", took, lostBound)
		}
		if want := "lost rank 1 of 2 on hostb (192.0.2.2)"; !strings.Contains(ranks[0].out.String(), want) {
			t.Errorf("rank 0's output lacks %q:\n%s", want, ranks[0].out.String())
		}
		t.Logf("rank 0 ended %v after rank 1 stopped: %s", ranks[0].end.Sub(fault).Round(10*time.Millisecond), lastLine(ranks[0].out.String()))
		// A stopped process runs nothing until it is continued (or its
		// launcher kills it): then it must end too.
		p.B.Signal(syscall.SIGCONT)
		cont := time.Now()
		if err := ranks[1].wait(t, lostBound+time.Minute); err == nil {
			t.Fatalf("rank 1 succeeded after it was continued:\n%s", ranks[1].out.String())
		}
		if took := ranks[1].end.Sub(cont); took > lostBound {
			t.Errorf("rank 1 ended %v after it was continued, want within %v", took, lostBound)
		}
		t.Logf("rank 1 ended %v after it was continued: %s", ranks[1].end.Sub(cont).Round(10*time.Millisecond), lastLine(ranks[1].out.String()))
	})

	t.Run("store unreachable at the start", func(t *testing.T) {
		// Host B without a route to host A (its link down) fails at
		// once; behind a link that loses every packet, it waits
		// --dist-timeout for an answer. Rank 0 waits as long for rank 1.
		for _, c := range []struct {
			name string
			opt  twohost.Options
			cut  bool
		}{{"no route", twohost.Options{}, true}, {"no answer", twohost.Options{Loss: 1}, false}} {
			t.Run(c.name, func(t *testing.T) {
				p := twohost.New(t, c.opt)
				if c.cut {
					if err := p.B.Cut(); err != nil {
						t.Fatal(err)
					}
				}
				job := hostsJob(t.TempDir())
				job.DistTimeout = 10 * time.Second
				t0 := time.Now()
				ranks := startJob(t, p, job, envLaunch)
				for i, want := range []string{"missing: rank 1", "rank 1 of 2: rendezvous at 192.0.2.1:29500: "} {
					r := ranks[i]
					if err := r.wait(t, job.DistTimeout+lostBound); err == nil {
						t.Fatalf("%s succeeded with host A unreachable:\n%s", r.name, r.out.String())
					}
					if !strings.Contains(r.out.String(), want) {
						t.Errorf("%s's output lacks %q:\n%s", r.name, want, r.out.String())
					}
					t.Logf("%s ended after %v (--dist-timeout %v): %s", r.name, r.end.Sub(t0).Round(10*time.Millisecond), job.DistTimeout, lastLine(r.out.String()))
				}
			})
		}
	})

	t.Run("a host name on loopback", func(t *testing.T) {
		// As on Debian, each host's own name is 127.0.1.1 there:
		// MASTER_ADDR=hosta makes rank 0 advertise a loopback address.
		p := twohost.New(t, twohost.Options{DebianHosts: true})
		byName := func(r int) []string { return append(envLaunch(r), "MASTER_ADDR=hosta") }
		ranks := startJob(t, p, hostsJob(t.TempDir()), byName)
		for _, r := range ranks {
			if err := r.wait(t, lostBound+time.Minute); err == nil {
				t.Fatalf("%s succeeded with rank 0 on loopback:\n%s", r.name, r.out.String())
			}
			for _, want := range []string{"rank 0 on hosta would advertise the loopback address 127.0.0.1",
				"MASTER_ADDR=hosta resolves to the loopback address 127.0.1.1", "rank 1 on hostb reaches that host at 192.0.2.1",
				"$GLOO_SOCKET_IFNAME on hosta"} {
				if !strings.Contains(r.out.String(), want) {
					t.Errorf("%s's output lacks %q:\n%s", r.name, want, r.out.String())
				}
			}
		}
		t.Logf("rank 1: %s", lastLine(ranks[1].out.String()))
		// Naming the interface is the way out.
		out := t.TempDir()
		runJob(t, p, hostsJob(out), byName, EnvGlooIfname+"=eth0")
		sameAsReference(t, ref, out, refSteps)
	})

	t.Run("slow network", func(t *testing.T) {
		// 20 ms each way and 1% of the packets lost: slower, not a fault.
		out := t.TempDir()
		p := twohost.New(t, twohost.Options{Delay: 20 * time.Millisecond, Loss: 0.01})
		t0 := time.Now()
		runJob(t, p, hostsJob(out), envLaunch)
		sameAsReference(t, ref, out, refSteps)
		t.Logf("%d steps in %v", refSteps, time.Since(t0).Round(10*time.Millisecond))
	})
}

// resume runs the faulty job again with --resume on both hosts and checks
// it started from the checkpoint of step from and ended as ref.
func resume(t *testing.T, p *twohost.Pair, ref, out string, from int) {
	t.Helper()
	job := hostsJob(out)
	job.Resume = true
	ranks := runJob(t, p, job, envLaunch)
	if want := fmt.Sprintf("resuming from %s", filepath.Join(CheckpointsDir(out), CheckpointName(from))); !strings.Contains(ranks[0].out.String(), want) {
		t.Errorf("rank 0's log lacks %q:\n%s", want, ranks[0].out.String())
	}
	sameAsReference(t, ref, out, refSteps)
}
