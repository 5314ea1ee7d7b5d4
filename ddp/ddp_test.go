package ddp

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weaksup/ddp/ddptest"
	"weaksup/nets"
	"weaksup/torch"
	"weaksup/torch/torchtest"
	"weaksup/train"
)

// The data-parallel tests run every rank as a process of its own (this
// test binary, started by LaunchLocal), with gloo on loopback.

// refJob is the two-rank run the tests below compare against: the tiny
// net with batch norm, 8 steps of 2 micro-batches of 8 images per rank
// (5 steps an epoch), a checkpoint every 2 steps, a held-out evaluation
// every 4.
func refJob(out string) ddpJob {
	return ddpJob{Out: out, Steps: refSteps, Batch: 8, Accumulate: 2, Block: "bottleneck", LR: 0.4, Every: 2, EvalEvery: 4}
}

const refSteps = 8

// TestDataParallel trains the reference run once and checks, against it:
// both ranks end bit-identical; the two-rank held-out evaluation equals a
// one-process evaluation of the final weights; a run whose rank 1 is
// killed fails naming rank 1, and its --resume (allreducing after the
// backward pass instead of during it) ends with the reference's weights
// and momentum bit for bit; and the killed run's checkpoint resumes in one
// process at the same global sample position.
func TestDataParallel(t *testing.T) {
	torchtest.Need(t)
	ref := t.TempDir()
	mustLaunchDDP(t, refJob(ref), 2)
	final := filepath.Join(train.CheckpointsDir(ref), train.CheckpointName(refSteps))

	t.Run("ranks end identical", func(t *testing.T) {
		if diff := ddptest.SameTensors(t, filepath.Join(ref, "rank-0.safetensors"), filepath.Join(ref, "rank-1.safetensors")); diff != "" {
			t.Fatalf("rank 0 and rank 1 differ: %s", diff)
		}
		if diff := ddptest.SameTensors(t, filepath.Join(ref, "rank-0.safetensors"), filepath.Join(final, train.ModelFile)); diff != "" {
			t.Fatalf("the final checkpoint differs from rank 0's model: %s", diff)
		}
	})

	t.Run("metrics show the global batch", func(t *testing.T) {
		rows, err := train.ReadMetrics(filepath.Join(ref, train.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		trains, evals := 0, 0
		for _, r := range rows {
			switch r.Kind {
			case train.RowTrain:
				trains++
				if r.World != 2 || r.Batch != 8 || r.GlobalBatch != 32 || r.CommBytes <= 0 {
					t.Errorf("step %d: world %d batch %d global batch %d comm bytes %d; want 2, 8, 32, > 0",
						r.Step, r.World, r.Batch, r.GlobalBatch, r.CommBytes)
				}
			case train.RowEval:
				evals++
			}
		}
		if trains != refSteps || evals != 2 {
			t.Fatalf("%d training and %d evaluation rows, want %d and 2 (one writer, rank 0)", trains, evals, refSteps)
		}
		var st train.CheckpointState
		data, err := os.ReadFile(filepath.Join(final, train.StateFile))
		if err == nil {
			err = json.Unmarshal(data, &st)
		}
		if err != nil || st.World != 2 || st.GlobalBatch != 32 {
			t.Fatalf("state.json: world %d global batch %d (%v); want 2 and 32", st.World, st.GlobalBatch, err)
		}
	})

	t.Run("evaluation equals one process", func(t *testing.T) {
		rows, err := train.ReadMetrics(filepath.Join(ref, train.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		last := rows[len(rows)-1]
		if last.Kind != train.RowEval || last.Step != refSteps || last.EvalResult == nil {
			t.Fatalf("last metrics row %+v, want the evaluation after the last step", last)
		}
		two := *last.EvalResult
		if err := torch.SetNumThreads(1); err != nil {
			t.Fatal(err)
		}
		m, data, _, err := ddpModelAndData(refJob(ref), train.Alone{}.Part())
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if _, err := train.LoadCheckpoint(final, m, nil); err != nil {
			t.Fatal(err)
		}
		val, err := data.Val(train.Alone{}.Part())
		if err != nil {
			t.Fatal(err)
		}
		defer val.Close()
		one, err := train.Evaluate(context.Background(), m, val, train.EvalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// The ranks evaluate 19 and 18 of the 37 images, in batches other
		// than one process's: the counts must match exactly, the scores
		// (and so mAP and the loss) to float rounding.
		if one.Images != 37 || two.Images != one.Images || two.PrecisionAt1 != one.PrecisionAt1 || two.PrecisionAt5 != one.PrecisionAt5 ||
			two.Top1 != one.Top1 || two.Top5 != one.Top5 || two.Classes != one.Classes ||
			math.Abs(two.MAP-one.MAP) > 1e-6 || math.Abs(two.Loss-one.Loss) > 1e-5*math.Abs(one.Loss) {
			t.Fatalf("two ranks: %+v\none process: %+v", two, one)
		}
		t.Logf("two ranks: %+v; mAP differs by %.3g, loss by %.3g", two, two.MAP-one.MAP, two.Loss-one.Loss)
	})

	killed := t.TempDir()
	t.Run("a killed rank is named", func(t *testing.T) {
		job := refJob(killed)
		// Rank 1 dies asking for its 11th batch: the first micro-batch of
		// step 6, after the checkpoint of step 4 was written.
		job.KillAt = 11
		out, err := launchDDP(t, job, 2)
		if !errors.Is(err, ErrRankFailed) || !strings.Contains(err.Error(), "rank 1 of 2 was killed by signal killed") {
			t.Fatalf("launch: %v, want rank 1 reported killed\n%s", err, out)
		}
		if !strings.Contains(out, "lost rank 1 of 2") {
			t.Fatalf("rank 0 did not name the lost rank:\n%s", out)
		}
		latest, lerr := train.LatestCheckpoint(train.CheckpointsDir(killed))
		if lerr != nil || filepath.Base(latest) != train.CheckpointName(4) {
			t.Fatalf("newest checkpoint %s (%v), want step 4", latest, lerr)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "lost rank") {
				t.Logf("rank 0: %s", line)
			}
		}
		t.Logf("launcher: %v", err)
	})
	if t.Failed() {
		return
	}
	one := t.TempDir()
	if out, err := exec.Command("cp", "-a", killed+"/.", one).CombinedOutput(); err != nil {
		t.Fatalf("copy the killed run: %v\n%s", err, out)
	}

	t.Run("resume ends as the uninterrupted run", func(t *testing.T) {
		job := refJob(killed)
		job.Resume, job.NoOverlap = true, true
		mustLaunchDDP(t, job, 2)
		for _, f := range []string{train.ModelFile, train.OptimizerFile} {
			resumed := filepath.Join(train.CheckpointsDir(killed), train.CheckpointName(refSteps), f)
			if diff := ddptest.SameTensors(t, filepath.Join(final, f), resumed); diff != "" {
				t.Errorf("%s: %s differs between the uninterrupted and the resumed run", f, diff)
			}
		}
	})

	t.Run("resume in one process", func(t *testing.T) {
		if err := torch.SetNumThreads(1); err != nil {
			t.Fatal(err)
		}
		// One process of batch 16 keeps the global batch of 2 × 8.
		job := refJob(one)
		job.Batch, job.Resume = 16, true
		m, data, _, err := ddpModelAndData(job, train.Alone{}.Part())
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		var log strings.Builder
		cfg := ddpConfig(job)
		cfg.Log = &log
		res, err := train.Run(context.Background(), cfg, m, data)
		if err != nil {
			t.Fatal(err)
		}
		if res.Steps != refSteps || !strings.Contains(log.String(), "written by 2 processes, this run has 1") {
			t.Fatalf("resumed in one process: %d steps, log:\n%s", res.Steps, log.String())
		}
		// The same global sample position as the two-rank run's: 2 × rank
		// 0's images of the epoch.
		var a, b train.CheckpointState
		for _, c := range []struct {
			dir string
			st  *train.CheckpointState
		}{{final, &a}, {res.Checkpoint, &b}} {
			data, err := os.ReadFile(filepath.Join(c.dir, train.StateFile))
			if err == nil {
				err = json.Unmarshal(data, c.st)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if b.World != 1 || b.Loader.World != 1 || b.Loader.Epoch != a.Loader.Epoch || b.Loader.Consumed != 2*a.Loader.Consumed || b.Images != a.Images {
			t.Fatalf("one process ends at %+v (images %d), two ranks at %+v (images %d)", *b.Loader, b.Images, *a.Loader, a.Images)
		}
	})
}

// TestDataParallelEqualsBiggerBatch: without batch norm (SkipInit blocks),
// two ranks of batch 8 follow one process of batch 16 on the same images,
// to float rounding: the loss means and the gradient average are the same
// sums in another order.
func TestDataParallelEqualsBiggerBatch(t *testing.T) {
	torchtest.Need(t)
	two := t.TempDir()
	job := ddpJob{Out: two, Steps: 4, Batch: 8, Accumulate: 1, Block: "skipinit", LR: 0.4}
	mustLaunchDDP(t, job, 2)

	if err := torch.SetNumThreads(1); err != nil {
		t.Fatal(err)
	}
	job.Out, job.Batch = t.TempDir(), 16
	m, data, _, err := ddpModelAndData(job, train.Alone{}.Part())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := train.Run(context.Background(), ddpConfig(job), m, data); err != nil {
		t.Fatal(err)
	}
	got, _, err := nets.LoadTensors(filepath.Join(two, "rank-0.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, p := range got {
			p.Tensor.Close()
		}
	}()
	init, _, _, err := ddpModelAndData(job, train.Alone{}.Part()) // the starting weights, to see that training moved them
	if err != nil {
		t.Fatal(err)
	}
	defer init.Close()
	// Differences are measured against each tensor's largest magnitude.
	const tol = 1e-5
	worst, moved := 0.0, 0.0
	byName := map[string]*torch.Tensor{}
	for _, p := range got {
		byName[p.Name] = p.Tensor
	}
	if len(got) != len(m.Parameters()) {
		t.Fatalf("%d tensors from the ranks, %d in the model", len(got), len(m.Parameters()))
	}
	for i, p := range m.Parameters() {
		a, err := byName[p.Name].Float32s()
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		b, err := p.Tensor.Float32s()
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		c, _ := init.Parameters()[i].Tensor.Float32s()
		d := scaledDiff(a, b)
		if d > tol {
			t.Errorf("%s: two ranks and one process differ by %.3g of the tensor's scale", p.Name, d)
		}
		worst, moved = math.Max(worst, d), math.Max(moved, scaledDiff(b, c))
	}
	if moved < 1e-3 {
		t.Fatalf("training moved no weight by more than %.3g relative: the comparison shows nothing", moved)
	}
	t.Logf("worst difference %.3g of a tensor's scale (tolerance %g); training moved weights by up to %.3g", worst, tol, moved)
}

// scaledDiff is max |a−b| over max |b| (over max |a| when b is all zero).
func scaledDiff(a, b []float32) float64 {
	var d, scale float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		scale = math.Max(scale, math.Abs(float64(b[i])))
	}
	if scale == 0 {
		for _, v := range a {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
	}
	if scale == 0 {
		return d
	}
	return d / scale
}

// TestLaunchLocalNamesFailedRank: a rank that exits with an error makes
// LaunchLocal stop the others and report it.
func TestLaunchLocalNamesFailedRank(t *testing.T) {
	torchtest.Need(t)
	var out strings.Builder
	// Rank 0 would sleep for ten minutes: LaunchLocal returns only
	// because it stopped it.
	err := LaunchLocal(context.Background(), LaunchOptions{N: 2, Exe: "/bin/sh",
		Args:   []string{"-c", `if [ "$RANK" = 1 ]; then echo "bad $WORLD_SIZE $LOCAL_RANK $MASTER_ADDR" >&2; exit 3; fi; exec sleep 600`},
		Stdout: &out, Stderr: &out, Grace: 100 * time.Millisecond})
	if !errors.Is(err, ErrRankFailed) || !strings.Contains(err.Error(), "rank 1 of 2 exited with status 3") {
		t.Fatalf("error %v, want rank 1 of 2 reported", err)
	}
	if !strings.Contains(out.String(), "[rank 1] bad 2 1 127.0.0.1") {
		t.Fatalf("rank 1's output %q lacks its prefixed line", out.String())
	}
}

func TestWithoutFlag(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"--nproc-per-node 2 --out x", "--out x"},
		{"--out x --nproc-per-node=4", "--out x"},
		{"-nproc-per-node 2 --shards s", "--shards s"},
		{"--out x -- --nproc-per-node 2", "--out x -- --nproc-per-node 2"},
	} {
		got := strings.Join(WithoutFlag(strings.Fields(tc.in), "nproc-per-node"), " ")
		if got != tc.want {
			t.Errorf("WithoutFlag(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
