//go:build e2e

package pretrain

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"weaksup/ddp"
	"weaksup/ddp/ddptest"
	"weaksup/internal/twohost"
	"weaksup/train"
	"weaksup/train/traintest"
)

// TestTwoHostsTorchrunRestarts: under torchrun --max_restarts 1, the
// worker on host B is killed mid-run; its agent restarts it, rank 0 finds
// it lost and ends, its agent restarts it too, and both continue from the
// newest checkpoint without --resume (pretrain resumes a restarted rank),
// ending bit-identical to the same pretraining uninterrupted on loopback.
func TestTwoHostsTorchrunRestarts(t *testing.T) {
	shards := writeSquareShards(t, traintest.NewSquares(192, 4, 24, 31), traintest.NewSquares(32, 4, 24, 32))
	flags := func(out string) []string {
		return []string{"--shards", shards, "--out", out, "--arch", "tiny", "--steps", "12", "--batch", "8",
			"--image-size", "24", "--checkpoint-every", "2", "--eval-every", "-1", "--log-every", "1", "--workers", "2",
			"--threads", "1", "--precision", "fp32", "--no-plots", "--dist-timeout", ddptest.FaultTimeout.String()}
	}
	env := func(out string) string {
		b, _ := json.Marshal(flags(out))
		return argsEnv + "=" + string(b)
	}
	ref := t.TempDir()
	var log strings.Builder
	if err := ddp.LaunchLocal(t.Context(), ddp.LaunchOptions{N: 2, Exe: os.Args[0], Args: []string{"-test.run=^$"},
		Env: append(ddptest.Environ(), env(ref)), Stdout: &log, Stderr: &log}); err != nil {
		t.Fatalf("the uninterrupted run on loopback: %v\n%s", err, log.String())
	}

	out := t.TempDir()
	p := twohost.New(t, twohost.Options{})
	var nodes [2]*ddptest.Proc
	for r, h := range []*twohost.Host{p.A, p.B} {
		cmd := ddptest.TorchrunOn(t, r, "--max_restarts=1", "--monitor_interval=1")
		nodes[r] = ddptest.Start(t, h, "torchrun node "+strconv.Itoa(r), []string{env(out)}, cmd[0], cmd[1:]...)
	}
	// Kill host B's worker (not its agent) once step 5 is done: after
	// the checkpoint of step 4.
	waitForStep(t, filepath.Join(out, train.MetricsFile), 5, nodes[0])
	worker := workerOn(t, p.B)
	if err := syscall.Kill(worker, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		if err := n.Wait(t, 10*time.Minute); err != nil {
			t.Fatalf("%s: %v\n%s", n.Name, err, n.Output())
		}
	}
	if want := "pretrain: restart 1 by the launcher: resuming from the newest checkpoint"; !strings.Contains(nodes[0].Output(), want) {
		t.Errorf("node 0's output lacks %q:\n%s", want, nodes[0].Output())
	}
	for _, f := range []string{train.ModelFile, train.OptimizerFile} {
		a := filepath.Join(train.CheckpointsDir(ref), train.CheckpointName(12), f)
		b := filepath.Join(train.CheckpointsDir(out), train.CheckpointName(12), f)
		if diff := ddptest.SameTensors(t, a, b); diff != "" {
			t.Errorf("%s: %s differs between the restarted run and the uninterrupted one", f, diff)
		}
	}
}

// waitForStep waits until the metrics file has a training row of step
// (or later), failing if the run ends first.
func waitForStep(t *testing.T, metrics string, step int, run *ddptest.Proc) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if f, err := os.Open(metrics); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var row train.MetricsRow
				if json.Unmarshal(sc.Bytes(), &row) == nil && row.Kind == train.RowTrain && row.Step >= step {
					f.Close()
					return
				}
			}
			f.Close()
		}
		select {
		case <-run.Done():
			t.Fatalf("%s ended before step %d: %v\n%s", run.Name, step, run.Err, run.Output())
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
