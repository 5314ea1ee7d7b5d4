//go:build e2e

package ddp

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"weaksup/ddp/ddptest"
	"weaksup/torch/torchtest"
	"weaksup/train"
)

// TestTorchrunStartsRanks runs the reference job under Debian's torchrun
// (--standalone: rank 0 hosts the store, as under any launcher other than
// ours) and checks that it ends as the same job under LaunchLocal.
// Debian's torchrun 1.13 needs -r, -t and --log_dir on Python 3.11.
func TestTorchrunStartsRanks(t *testing.T) {
	torchtest.Need(t)
	torchrun, err := exec.LookPath("torchrun")
	if err != nil {
		t.Fatalf("torchrun (python3-torch) is not installed: %v", err)
	}
	ours := t.TempDir()
	job := refJob(ours)
	job.Steps, job.EvalEvery = 4, 0
	mustLaunchDDP(t, job, 2)

	theirs := t.TempDir()
	job.Out = theirs
	spec, _ := json.Marshal(job)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, torchrun, "--standalone", "--nproc_per_node=2", "-r", "1", "-t", "1",
		"--log_dir", t.TempDir(), "--no_python", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), ddpJobEnv+"="+string(spec))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("torchrun: %v\n%s", err, out)
	}
	final := filepath.Join(train.CheckpointsDir(theirs), train.CheckpointName(job.Steps), train.ModelFile)
	if diff := ddptest.SameTensors(t, filepath.Join(train.CheckpointsDir(ours), train.CheckpointName(job.Steps), train.ModelFile), final); diff != "" {
		t.Fatalf("under torchrun %s differs from the run under LaunchLocal", diff)
	}
}
