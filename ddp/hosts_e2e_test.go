//go:build e2e

package ddp

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"weaksup/ddp/ddptest"
	"weaksup/internal/twohost"
	"weaksup/train"
)

// TestTwoHostsTorchrun: the reference job under `torchrun --nnodes 2
// --node_rank R` on each host, rendezvous on host A, ends bit-identical
// to the same job on loopback.
func TestTwoHostsTorchrun(t *testing.T) {
	ref := t.TempDir()
	mustLaunchDDP(t, hostsJob(ref), 2)
	out := t.TempDir()
	spec, _ := json.Marshal(hostsJob(out))
	p := twohost.New(t, twohost.Options{})
	var nodes [2]*ddptest.Proc
	for r, h := range []*twohost.Host{p.A, p.B} {
		cmd := ddptest.TorchrunOn(t, r)
		nodes[r] = ddptest.Start(t, h, "torchrun node "+strconv.Itoa(r), []string{ddpJobEnv + "=" + string(spec)}, cmd[0], cmd[1:]...)
	}
	for _, n := range nodes {
		if err := n.Wait(t, 5*time.Minute); err != nil {
			t.Fatalf("%s: %v\n%s", n.Name, err, n.Output())
		}
	}
	sameAsReference(t, ref, out, refSteps)
}

// TestTwoHostsFourRanks: two ranks on each host; the link is cut mid-step.
// Rank 0 finds the ranks on host B lost (both, or the one whose heartbeat
// went stale first: the two last heartbeats may fall in different reading
// rounds), rank 1 learns it from rank 0's verdict, ranks 2 and 3 lose
// rank 0's store: all four end within the
// bound, and --resume across the hosts ends as the same resume on
// loopback. (Not as the uninterrupted run: with more than two ranks the
// allreduce adds in an order that depends on the gradient buckets, which
// the Reducer builds anew after a resume, so a resumed run differs from an
// uninterrupted one in the last bits.)
func TestTwoHostsFourRanks(t *testing.T) {
	p := twohost.New(t, twohost.Options{})
	out := t.TempDir()
	job := hostsJob(out)
	three := 3
	job.CutAt, job.FaultRank = 11, &three
	ranks := startFour(t, p, job)
	fault := faultTime(t, ranks[3])
	lostB := regexp.MustCompile(`lost ranks? (2|3|2, 3) of 4 on hostb \(192\.0\.2\.2\) \(no heartbeat`)
	lost0 := regexp.MustCompile(regexp.QuoteMeta("lost rank 0 of 4 on hosta (192.0.2.1) (it hosts the store"))
	byRank0 := regexp.MustCompile(regexp.QuoteMeta("found by rank 0)"))
	wants := [4][]*regexp.Regexp{{lostB}, {lostB, byRank0}, {lost0}, {lost0}}
	for i, r := range ranks {
		if err := r.Wait(t, lostBound+time.Minute); err == nil {
			t.Fatalf("%s succeeded after the cut:\n%s", r.Name, r.Output())
		}
		if took := r.End.Sub(fault); took > lostBound {
			t.Errorf("%s ended %v after the cut, want within %v", r.Name, took, lostBound)
		}
		for _, w := range wants[i] {
			if !w.MatchString(r.Output()) {
				t.Errorf("%s's output lacks %q:\n%s", r.Name, w, r.Output())
			}
		}
		t.Logf("%s ended %v after the cut: %s", r.Name, r.End.Sub(fault).Round(10*time.Millisecond), lastLine(r.Output()))
	}
	if err := p.B.Restore(); err != nil {
		t.Fatal(err)
	}
	ref := t.TempDir()
	if out, err := exec.Command("cp", "-a", out+"/.", ref).CombinedOutput(); err != nil {
		t.Fatalf("copy the interrupted run: %v\n%s", err, out)
	}
	job = hostsJob(ref)
	job.Resume = true
	mustLaunchDDP(t, job, 4)
	job = hostsJob(out)
	job.Resume = true
	for _, r := range startFour(t, p, job) {
		if err := r.Wait(t, 5*time.Minute); err != nil {
			t.Fatalf("%s: %v\n%s", r.Name, err, r.Output())
		}
	}
	for _, f := range []string{train.ModelFile, train.OptimizerFile} {
		a := filepath.Join(train.CheckpointsDir(ref), train.CheckpointName(refSteps), f)
		b := filepath.Join(train.CheckpointsDir(out), train.CheckpointName(refSteps), f)
		if diff := ddptest.SameTensors(t, a, b); diff != "" {
			t.Errorf("%s: %s differs from the same resume of four ranks on loopback", f, diff)
		}
	}
}

// startFour starts job as ranks 0 and 1 on host A, 2 and 3 on host B.
func startFour(t *testing.T, p *twohost.Pair, job ddpJob) [4]*ddptest.Proc {
	t.Helper()
	spec, _ := json.Marshal(job)
	var ranks [4]*ddptest.Proc
	for r := range 4 {
		h := p.A
		if r >= 2 {
			h = p.B
		}
		env := []string{"RANK=" + strconv.Itoa(r), "WORLD_SIZE=4", "LOCAL_RANK=" + strconv.Itoa(r%2), "LOCAL_WORLD_SIZE=2",
			"MASTER_ADDR=" + twohost.AddrA, "MASTER_PORT=" + strconv.Itoa(ddptest.Port), ddpJobEnv + "=" + string(spec)}
		ranks[r] = ddptest.Start(t, h, "rank "+strconv.Itoa(r), env, os.Args[0], "-test.run=^$")
	}
	return ranks
}

// TestTwoHostsStoppedRankResumes: rank 1 stops itself mid-step, rank 0
// ends naming it, rank 1 ends once continued, and --resume ends as the
// uninterrupted run.
func TestTwoHostsStoppedRankResumes(t *testing.T) {
	ref := t.TempDir()
	mustLaunchDDP(t, hostsJob(ref), 2)
	p := twohost.New(t, twohost.Options{})
	out := t.TempDir()
	job := hostsJob(out)
	job.StopAt = 11
	ranks := startJob(t, p, job, ddptest.EnvLaunch)
	faultTime(t, ranks[1])
	if err := ranks[0].Wait(t, lostBound+time.Minute); err == nil || !strings.Contains(ranks[0].Output(), "lost rank 1 of 2 on hostb") {
		t.Fatalf("rank 0: %v, want it to name rank 1 lost:\n%s", err, ranks[0].Output())
	}
	p.B.Signal(syscall.SIGCONT)
	if err := ranks[1].Wait(t, lostBound+time.Minute); err == nil {
		t.Fatalf("rank 1 succeeded after it was continued:\n%s", ranks[1].Output())
	}
	resume(t, p, ref, out, 4)
}

// TestTwoHostsStoreNotStarted: rank 1 starts on host B while nothing
// listens on host A yet (rank 0 never starts): it ends after
// --dist-timeout with an error naming the store's address.
func TestTwoHostsStoreNotStarted(t *testing.T) {
	p := twohost.New(t, twohost.Options{})
	job := hostsJob(t.TempDir())
	job.DistTimeout = 10 * time.Second
	spec, _ := json.Marshal(job)
	t0 := time.Now()
	r := ddptest.Start(t, p.B, "rank 1", append(ddptest.EnvLaunch(1), ddpJobEnv+"="+string(spec)), os.Args[0], "-test.run=^$")
	if err := r.Wait(t, job.DistTimeout+lostBound); err == nil {
		t.Fatalf("rank 1 succeeded alone:\n%s", r.Output())
	}
	if want := "rank 1 of 2: rendezvous at 192.0.2.1:29500: "; !strings.Contains(r.Output(), want) {
		t.Errorf("rank 1's output lacks %q:\n%s", want, r.Output())
	}
	t.Logf("rank 1 ended after %v: %s", time.Since(t0).Round(10*time.Millisecond), lastLine(r.Output()))
}
