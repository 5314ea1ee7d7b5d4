package ddp

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"weaksup/ddp/ddptest"
	"weaksup/internal/twohost"
	"weaksup/torch"
	"weaksup/train"
)

// The tests of data-parallel training across hosts run one rank on each of
// two hosts made by package twohost (network namespaces: each its own
// loopback, host name and /etc/hosts, joined by a link with TEST-NET-1
// addresses), each rank this test binary started with `ip netns exec`.

// slurmLaunch is the environment srun gives task r of a two-node step:
// MASTER_ADDR comes from the node list (hosta, which each host's
// /etc/hosts resolves), MASTER_PORT from the job id.
func slurmLaunch(rank int) []string {
	return []string{"SLURM_PROCID=" + strconv.Itoa(rank), "SLURM_NTASKS=2", "SLURM_LOCALID=0", "SLURM_STEP_ID=0",
		"SLURM_JOB_ID=4242", "SLURM_STEP_NODELIST=hosta,hostb", "SLURM_NTASKS_PER_NODE=1"}
}

// startJob starts job as rank 0 on host A and rank 1 on host B, each with
// launch's environment for its rank and env.
func startJob(t testing.TB, p *twohost.Pair, job ddpJob, launch func(int) []string, env ...string) [2]*ddptest.Proc {
	t.Helper()
	spec, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	var ranks [2]*ddptest.Proc
	for r, h := range []*twohost.Host{p.A, p.B} {
		e := append(append(launch(r), env...), ddpJobEnv+"="+string(spec))
		ranks[r] = ddptest.Start(t, h, "rank "+strconv.Itoa(r), e, os.Args[0], "-test.run=^$")
	}
	return ranks
}

// runJob runs job on both hosts and fails the test unless both ranks
// succeed.
func runJob(t testing.TB, p *twohost.Pair, job ddpJob, launch func(int) []string, env ...string) [2]*ddptest.Proc {
	t.Helper()
	ranks := startJob(t, p, job, launch, env...)
	for _, r := range ranks {
		if err := r.Wait(t, 5*time.Minute); err != nil {
			t.Fatalf("%s: %v\n%s\nthe other rank:\n%s", r.Name, err, r.Output(), otherOut(ranks, r))
		}
	}
	return ranks
}

func otherOut(ranks [2]*ddptest.Proc, r *ddptest.Proc) string {
	if ranks[0] == r {
		return ranks[1].Output()
	}
	return ranks[0].Output()
}

// sameAsReference fails the test unless the final checkpoint of the run in
// out equals ref's bit for bit (weights and momentum), and both ranks ended
// with those weights.
func sameAsReference(t *testing.T, ref, out string, steps int) {
	t.Helper()
	for _, f := range []string{train.ModelFile, train.OptimizerFile} {
		a := filepath.Join(train.CheckpointsDir(ref), train.CheckpointName(steps), f)
		b := filepath.Join(train.CheckpointsDir(out), train.CheckpointName(steps), f)
		if diff := ddptest.SameTensors(t, a, b); diff != "" {
			t.Errorf("%s: %s differs from the run on loopback", f, diff)
		}
	}
	if diff := ddptest.SameTensors(t, filepath.Join(out, "rank-0.safetensors"), filepath.Join(out, "rank-1.safetensors")); diff != "" {
		t.Errorf("the ranks on the two hosts end with different weights: %s", diff)
	}
}

// faultLine is what a rank prints before it injects a fault (faultAt).
var faultLine = regexp.MustCompile(`fault: (\S+) at (\d+)`)

// faultTime waits for rank r to report its fault and returns when it
// happened.
func faultTime(t testing.TB, r *ddptest.Proc) time.Time {
	t.Helper()
	for ended := false; ; {
		if m := faultLine.FindStringSubmatch(r.Output()); m != nil {
			ns, _ := strconv.ParseInt(m[2], 10, 64)
			return time.Unix(0, ns)
		}
		if ended {
			t.Fatalf("%s ended (%v) before its fault:\n%s", r.Name, r.Err, r.Output())
		}
		select {
		case <-r.Done():
			ended = true // its output is all in
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// lostWindow is how long the heartbeat watcher waits before a silent rank
// or store is lost; lostBound bounds how long after a fault every rank must
// have ended: many windows, for a busy machine, and still far inside the
// collective timeout of the fault tests (ddptest.FaultTimeout).
var (
	lostWindow = torch.LostAfterBeats * torch.HeartbeatInterval
	lostBound  = 20 * lostWindow
)

// mustFailWithin waits for every rank of a faulty run: each must fail,
// within lostBound of the fault, with an error containing its want.
func mustFailWithin(t *testing.T, ranks [2]*ddptest.Proc, fault time.Time, want [2][]string) {
	t.Helper()
	for i, r := range ranks {
		err := r.Wait(t, lostBound+time.Minute)
		if err == nil {
			t.Fatalf("%s succeeded after the fault:\n%s", r.Name, r.Output())
		}
		took := r.End.Sub(fault)
		if took > lostBound {
			t.Errorf("%s ended %v after the fault, want within %v (the collective timeout is %v)", r.Name, took, lostBound, ddptest.FaultTimeout)
		}
		for _, w := range want[i] {
			if !strings.Contains(r.Output(), w) {
				t.Errorf("%s's output lacks %q:\n%s", r.Name, w, r.Output())
			}
		}
		t.Logf("%s ended %v after the fault: %s", r.Name, took.Round(10*time.Millisecond), lastLine(r.Output()))
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
	job.DistTimeout = ddptest.FaultTimeout
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
		ranks := runJob(t, twohost.New(t, twohost.Options{}), hostsJob(out), ddptest.EnvLaunch)
		sameAsReference(t, ref, out, refSteps)
		if want := "rank 0 at 192.0.2.1 (the route to MASTER_ADDR=192.0.2.1 leaves by eth0 (192.0.2.1))"; !strings.Contains(ranks[0].Output(), want) {
			t.Errorf("rank 0's log lacks %q:\n%s", want, ranks[0].Output())
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
		ranks := startJob(t, p, job, ddptest.EnvLaunch)
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
		ranks := startJob(t, p, job, ddptest.EnvLaunch)
		mustFailWithin(t, ranks, faultTime(t, ranks[1]), [2][]string{{"lost rank 1 of 2 on hostb (192.0.2.2)"}, {}})
		if !strings.Contains(ranks[1].Err.Error(), "killed") {
			t.Errorf("rank 1: %v, want killed", ranks[1].Err)
		}
		resume(t, p, ref, out, 4)
	})

	t.Run("stopped", func(t *testing.T) {
		p := twohost.New(t, twohost.Options{})
		out := t.TempDir()
		job := hostsJob(out)
		job.StopAt = 11
		ranks := startJob(t, p, job, ddptest.EnvLaunch)
		fault := faultTime(t, ranks[1])
		if err := ranks[0].Wait(t, lostBound+time.Minute); err == nil {
			t.Fatalf("rank 0 succeeded with rank 1 stopped:\n%s", ranks[0].Output())
		}
		if took := ranks[0].End.Sub(fault); took > lostBound {
			t.Errorf("rank 0 ended %v after rank 1 stopped, want within %v", took, lostBound)
		}
		if want := "lost rank 1 of 2 on hostb (192.0.2.2)"; !strings.Contains(ranks[0].Output(), want) {
			t.Errorf("rank 0's output lacks %q:\n%s", want, ranks[0].Output())
		}
		t.Logf("rank 0 ended %v after rank 1 stopped: %s", ranks[0].End.Sub(fault).Round(10*time.Millisecond), lastLine(ranks[0].Output()))
		// A stopped process runs nothing until it is continued (or its
		// launcher kills it): then it must end too.
		p.B.Signal(syscall.SIGCONT)
		cont := time.Now()
		if err := ranks[1].Wait(t, lostBound+time.Minute); err == nil {
			t.Fatalf("rank 1 succeeded after it was continued:\n%s", ranks[1].Output())
		}
		if took := ranks[1].End.Sub(cont); took > lostBound {
			t.Errorf("rank 1 ended %v after it was continued, want within %v", took, lostBound)
		}
		t.Logf("rank 1 ended %v after it was continued: %s", ranks[1].End.Sub(cont).Round(10*time.Millisecond), lastLine(ranks[1].Output()))
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
				ranks := startJob(t, p, job, ddptest.EnvLaunch)
				for i, want := range []string{"missing: rank 1", "rank 1 of 2: rendezvous at 192.0.2.1:29500: "} {
					r := ranks[i]
					if err := r.Wait(t, job.DistTimeout+lostBound); err == nil {
						t.Fatalf("%s succeeded with host A unreachable:\n%s", r.Name, r.Output())
					}
					if !strings.Contains(r.Output(), want) {
						t.Errorf("%s's output lacks %q:\n%s", r.Name, want, r.Output())
					}
					t.Logf("%s ended after %v (--dist-timeout %v): %s", r.Name, r.End.Sub(t0).Round(10*time.Millisecond), job.DistTimeout, lastLine(r.Output()))
				}
			})
		}
	})

	t.Run("a host name on loopback", func(t *testing.T) {
		// As on Debian, each host's own name is 127.0.1.1 there:
		// MASTER_ADDR=hosta makes rank 0 advertise a loopback address.
		p := twohost.New(t, twohost.Options{DebianHosts: true})
		byName := func(r int) []string { return append(ddptest.EnvLaunch(r), "MASTER_ADDR=hosta") }
		ranks := startJob(t, p, hostsJob(t.TempDir()), byName)
		for _, r := range ranks {
			if err := r.Wait(t, lostBound+time.Minute); err == nil {
				t.Fatalf("%s succeeded with rank 0 on loopback:\n%s", r.Name, r.Output())
			}
			for _, want := range []string{"rank 0 on hosta would advertise the loopback address 127.0.0.1",
				"MASTER_ADDR=hosta resolves to the loopback address 127.0.1.1", "rank 1 on hostb reaches that host at 192.0.2.1",
				"$GLOO_SOCKET_IFNAME on hosta"} {
				if !strings.Contains(r.Output(), want) {
					t.Errorf("%s's output lacks %q:\n%s", r.Name, want, r.Output())
				}
			}
		}
		t.Logf("rank 1: %s", lastLine(ranks[1].Output()))
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
		runJob(t, p, hostsJob(out), ddptest.EnvLaunch)
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
	ranks := runJob(t, p, job, ddptest.EnvLaunch)
	if want := fmt.Sprintf("resuming from %s", filepath.Join(train.CheckpointsDir(out), train.CheckpointName(from))); !strings.Contains(ranks[0].Output(), want) {
		t.Errorf("rank 0's log lacks %q:\n%s", want, ranks[0].Output())
	}
	sameAsReference(t, ref, out, refSteps)
}
