//go:build e2e

package train

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"weaksup/internal/twohost"
)

// torchrunOn returns the command line of Debian's torchrun 1.13 on node
// rank of a two-node static rendezvous on host A (rank 0's agent hosts the
// store), one worker per node running this test binary. torchrun 1.13
// spells its flags with underscores and needs -r, -t and --log_dir on
// Python 3.11.
func torchrunOn(t *testing.T, rank int, extra ...string) []string {
	t.Helper()
	torchrun, err := exec.LookPath("torchrun")
	if err != nil {
		t.Fatalf("torchrun (python3-torch) is not installed: %v", err)
	}
	args := []string{torchrun, "--nnodes=2", "--node_rank=" + strconv.Itoa(rank), "--nproc_per_node=1",
		"--master_addr=" + twohost.AddrA, "--master_port=" + strconv.Itoa(hostPort), "-r", "1", "-t", "1",
		"--log_dir", t.TempDir()}
	args = append(args, extra...)
	return append(args, "--no_python", os.Args[0], "-test.run=^$")
}

// TestTwoHostsTorchrun: the reference job under `torchrun --nnodes 2
// --node_rank R` on each host, rendezvous on host A, ends bit-identical
// to the same job on loopback.
func TestTwoHostsTorchrun(t *testing.T) {
	ref := t.TempDir()
	mustLaunchDDP(t, hostsJob(ref), 2)
	out := t.TempDir()
	spec, _ := json.Marshal(hostsJob(out))
	p := twohost.New(t, twohost.Options{})
	var nodes [2]*hostProc
	for r, h := range []*twohost.Host{p.A, p.B} {
		cmd := torchrunOn(t, r)
		nodes[r] = startOn(t, h, "torchrun node "+strconv.Itoa(r), []string{ddpJobEnv + "=" + string(spec)}, cmd[0], cmd[1:]...)
	}
	for _, n := range nodes {
		if err := n.wait(t, 5*time.Minute); err != nil {
			t.Fatalf("%s: %v\n%s", n.name, err, n.out.String())
		}
	}
	sameAsReference(t, ref, out, refSteps)
}

// TestTwoHostsTorchrunRestarts: under torchrun --max_restarts 1, the
// worker on host B is killed mid-run; its agent restarts it, rank 0 finds
// it lost and ends, its agent restarts it too, and both continue from the
// newest checkpoint without --resume (pretrain resumes a restarted rank),
// ending bit-identical to the same pretraining uninterrupted on loopback.
func TestTwoHostsTorchrunRestarts(t *testing.T) {
	shards := writeSquareShards(t, newSquares(t, 192, 4, 24, 31), newSquares(t, 32, 4, 24, 32))
	flags := func(out string) []string {
		return []string{"--shards", shards, "--out", out, "--arch", "tiny", "--steps", "12", "--batch", "8",
			"--image-size", "24", "--checkpoint-every", "2", "--eval-every", "-1", "--log-every", "1", "--workers", "2",
			"--threads", "1", "--precision", "fp32", "--no-plots", "--dist-timeout", faultTimeout.String()}
	}
	env := func(out string) string {
		b, _ := json.Marshal(flags(out))
		return pretrainArgsEnv + "=" + string(b)
	}
	ref := t.TempDir()
	var log strings.Builder
	if err := LaunchLocal(t.Context(), LaunchOptions{N: 2, Exe: os.Args[0], Args: []string{"-test.run=^$"},
		Env: append(withoutEnv(os.Environ(), rankEnvNames...), env(ref)), Stdout: &log, Stderr: &log}); err != nil {
		t.Fatalf("the uninterrupted run on loopback: %v\n%s", err, log.String())
	}

	out := t.TempDir()
	p := twohost.New(t, twohost.Options{})
	var nodes [2]*hostProc
	for r, h := range []*twohost.Host{p.A, p.B} {
		cmd := torchrunOn(t, r, "--max_restarts=1", "--monitor_interval=1")
		nodes[r] = startOn(t, h, "torchrun node "+strconv.Itoa(r), []string{env(out)}, cmd[0], cmd[1:]...)
	}
	// Kill host B's worker (not its agent) once step 5 is done: after
	// the checkpoint of step 4.
	waitForStep(t, filepath.Join(out, MetricsFile), 5, nodes[0])
	worker := workerOn(t, p.B)
	if err := syscall.Kill(worker, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if err := n.wait(t, 10*time.Minute); err != nil {
			t.Fatalf("%s: %v\n%s", n.name, err, n.out.String())
		}
	}
	if want := "pretrain: restart 1 by the launcher: resuming from the newest checkpoint"; !strings.Contains(nodes[0].out.String(), want) {
		t.Errorf("node 0's output lacks %q:\n%s", want, nodes[0].out.String())
	}
	for _, f := range []string{ModelFile, OptimizerFile} {
		a := filepath.Join(CheckpointsDir(ref), CheckpointName(12), f)
		b := filepath.Join(CheckpointsDir(out), CheckpointName(12), f)
		if diff := sameTensors(t, a, b); diff != "" {
			t.Errorf("%s: %s differs between the restarted run and the uninterrupted one", f, diff)
		}
	}
}

// waitForStep waits until the metrics file has a training row of step
// (or later), failing if the run ends first.
func waitForStep(t *testing.T, metrics string, step int, run *hostProc) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if f, err := os.Open(metrics); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var row MetricsRow
				if json.Unmarshal(sc.Bytes(), &row) == nil && row.Kind == RowTrain && row.Step >= step {
					f.Close()
					return
				}
			}
			f.Close()
		}
		select {
		case <-run.done:
			t.Fatalf("%s ended before step %d: %v\n%s", run.name, step, run.err, run.out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("no step %d in %s after 5 minutes", step, metrics)
}

// workerOn returns the pid of the training process on h (this test
// binary, not torchrun's agent).
func workerOn(t *testing.T, h *twohost.Host) int {
	t.Helper()
	exe, _ := os.Executable()
	for _, pid := range h.Pids() {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && target == exe {
			return pid
		}
	}
	t.Fatalf("no worker process on %s", h.Name)
	return 0
}

// TestTwoHostsFourRanks: two ranks on each host; the link is cut mid-step.
// Rank 0 finds ranks 2 and 3 lost, rank 1 learns it from rank 0's
// verdict, ranks 2 and 3 lose rank 0's store: all four end within the
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
	lost23, lost0 := "lost ranks 2, 3 of 4 on hostb (192.0.2.2) (no heartbeat", "lost rank 0 of 4 on hosta (192.0.2.1) (it hosts the store"
	wants := [4][]string{{lost23}, {lost23, "found by rank 0)"}, {lost0}, {lost0}}
	for i, r := range ranks {
		if err := r.wait(t, lostBound+time.Minute); err == nil {
			t.Fatalf("%s succeeded after the cut:\n%s", r.name, r.out.String())
		}
		if took := r.end.Sub(fault); took > lostBound {
			t.Errorf("%s ended %v after the cut, want within %v", r.name, took, lostBound)
		}
		for _, w := range wants[i] {
			if !strings.Contains(r.out.String(), w) {
				t.Errorf("%s's output lacks %q:\n%s", r.name, w, r.out.String())
			}
		}
		t.Logf("%s ended %v after the cut: %s", r.name, r.end.Sub(fault).Round(10*time.Millisecond), lastLine(r.out.String()))
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
		if err := r.wait(t, 5*time.Minute); err != nil {
			t.Fatalf("%s: %v\n%s", r.name, err, r.out.String())
		}
	}
	for _, f := range []string{ModelFile, OptimizerFile} {
		a := filepath.Join(CheckpointsDir(ref), CheckpointName(refSteps), f)
		b := filepath.Join(CheckpointsDir(out), CheckpointName(refSteps), f)
		if diff := sameTensors(t, a, b); diff != "" {
			t.Errorf("%s: %s differs from the same resume of four ranks on loopback", f, diff)
		}
	}
}

// startFour starts job as ranks 0 and 1 on host A, 2 and 3 on host B.
func startFour(t *testing.T, p *twohost.Pair, job ddpJob) [4]*hostProc {
	t.Helper()
	spec, _ := json.Marshal(job)
	var ranks [4]*hostProc
	for r := range 4 {
		h := p.A
		if r >= 2 {
			h = p.B
		}
		env := []string{"RANK=" + strconv.Itoa(r), "WORLD_SIZE=4", "LOCAL_RANK=" + strconv.Itoa(r%2), "LOCAL_WORLD_SIZE=2",
			"MASTER_ADDR=" + twohost.AddrA, "MASTER_PORT=" + strconv.Itoa(hostPort), ddpJobEnv + "=" + string(spec)}
		ranks[r] = startOn(t, h, "rank "+strconv.Itoa(r), env, os.Args[0], "-test.run=^$")
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
	ranks := startJob(t, p, job, envLaunch)
	faultTime(t, ranks[1])
	if err := ranks[0].wait(t, lostBound+time.Minute); err == nil || !strings.Contains(ranks[0].out.String(), "lost rank 1 of 2 on hostb") {
		t.Fatalf("rank 0: %v, want it to name rank 1 lost:\n%s", err, ranks[0].out.String())
	}
	p.B.Signal(syscall.SIGCONT)
	if err := ranks[1].wait(t, lostBound+time.Minute); err == nil {
		t.Fatalf("rank 1 succeeded after it was continued:\n%s", ranks[1].out.String())
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
	r := startOn(t, p.B, "rank 1", append(envLaunch(1), ddpJobEnv+"="+string(spec)), os.Args[0], "-test.run=^$")
	if err := r.wait(t, job.DistTimeout+lostBound); err == nil {
		t.Fatalf("rank 1 succeeded alone:\n%s", r.out.String())
	}
	if want := "rank 1 of 2: rendezvous at 192.0.2.1:29500: "; !strings.Contains(r.out.String(), want) {
		t.Errorf("rank 1's output lacks %q:\n%s", want, r.out.String())
	}
	t.Logf("rank 1 ended after %v: %s", time.Since(t0).Round(10*time.Millisecond), lastLine(r.out.String()))
}
