package finetune

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weaksup/datasets"
	"weaksup/datasets/datasetstest"
	"weaksup/ddp"
	"weaksup/torch"
	"weaksup/torch/torchtest"
	"weaksup/train"
)

// distJobEnv carries, as JSON, the job a test binary runs when
// TestDistributedFinetune starts it as one rank.
const distJobEnv = "WEAKSUP_FINETUNE_DIST_JOB"

// TestMain lets the test binary double as one rank of a data-parallel
// fine-tuning (distJobEnv).
func TestMain(m *testing.M) {
	if job := os.Getenv(distJobEnv); job != "" {
		if err := runDistJob(job); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type distJob struct {
	Data string `json:"data"`
	Out  string `json:"out"`
}

// distConfigs are the two runs of the job: full fine-tuning from scratch
// and a linear probe on a random network, both on the tiny image folder.
func distConfigs(data, out string) (full, linear Config) {
	full = tinyConfig(datasets.ImageFolder, data, filepath.Join(out, "full"))
	full.Batch = 4 // per rank: a global batch of 8
	linear = Config{Task: datasets.ImageFolder, Data: data, From: FromNone, Arch: "resnext_tiny", Mode: ModeLinear,
		Out: filepath.Join(out, "linear"), ImageSize: 16, Epochs: 2, Batch: 8, Seed: 3, Workers: 2}
	return full, linear
}

// runDistJob runs both configurations as one rank of the group in the
// environment.
func runDistJob(spec string) error {
	var job distJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		return err
	}
	if err := torch.SetNumThreads(1); err != nil {
		return err
	}
	full, linear := distConfigs(job.Data, job.Out)
	for _, cfg := range []Config{full, linear} {
		cfg.Dist = ddp.Flags{Timeout: time.Minute}
		if _, err := Run(context.Background(), cfg); err != nil {
			return fmt.Errorf("%s: %w", cfg.Mode, err)
		}
	}
	return nil
}

// TestDistributedFinetune fine-tunes with two ranks (one launch, two
// groups in a row: full fine-tuning, then a linear probe), and checks that
// rank 0 wrote the full run's outputs with the global batch, and that the
// features the ranks extracted between them equal a one-process extraction.
func TestDistributedFinetune(t *testing.T) {
	torchtest.Need(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	datasetstest.ImageFolder(t, data, tinySpec)
	out := filepath.Join(dir, "two")
	spec, _ := json.Marshal(distJob{Data: data, Out: out})
	var log strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := ddp.LaunchLocal(ctx, ddp.LaunchOptions{N: 2, Exe: os.Args[0], Args: []string{"-test.run=^$"},
		Env: append(os.Environ(), distJobEnv+"="+string(spec)), Stdout: &log, Stderr: &log})
	if err != nil {
		t.Fatalf("two ranks: %v\n%s", err, log.String())
	}

	full, linear := distConfigs(data, out)
	for _, f := range []string{ModelFile, MetricsJSONFile, RunInfoFile} {
		if _, err := os.Stat(filepath.Join(full.Out, f)); err != nil {
			t.Errorf("full fine-tuning output: %v", err)
		}
	}
	rows, err := train.ReadMetrics(filepath.Join(full.Out, train.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	for _, r := range rows {
		if r.Kind != train.RowTrain {
			continue
		}
		steps = r.Step
		if r.World != 2 || r.GlobalBatch != 8 {
			t.Errorf("step %d: world %d, global batch %d; want 2 and 8", r.Step, r.World, r.GlobalBatch)
		}
	}
	// 24 training images, a global batch of 8, 2 epochs.
	if want := full.Epochs * tinySpec.K * tinySpec.Train / 8; steps != want {
		t.Errorf("full fine-tuning ran %d steps, want %d", steps, want)
	}

	// The same linear probe in one process, into another directory.
	one := linear
	one.Out = filepath.Join(dir, "one")
	if _, err := Run(context.Background(), one); err != nil {
		t.Fatal(err)
	}
	ds, err := datasets.Open(datasets.ImageFolder, data, datasets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{datasets.SplitTrain, datasets.SplitVal} {
		items, err := ds.Split(split)
		if err != nil {
			t.Fatal(err)
		}
		key, err := FeatureKey("", linear.Seed, "resnext_tiny/bottleneck", linear.ImageSize, items)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("%s-%s.feat", split, key[:16])
		a, err := ReadFeatures(filepath.Join(linear.Out, FeaturesDir, name), key)
		if err != nil {
			t.Fatalf("two ranks' features: %v", err)
		}
		b, err := ReadFeatures(filepath.Join(one.Out, FeaturesDir, name), key)
		if err != nil {
			t.Fatalf("one process's features: %v", err)
		}
		if a.Done != items.Len() || a.Len() != b.Len() || a.Dim != b.Dim {
			t.Fatalf("%s: two ranks %d of %d images of dim %d, one process %d of dim %d", split, a.Done, a.Len(), a.Dim, b.Len(), b.Dim)
		}
		var worst, scale float64
		for i := range a.Vectors {
			worst = math.Max(worst, math.Abs(float64(a.Vectors[i]-b.Vectors[i])))
			scale = math.Max(scale, math.Abs(float64(b.Vectors[i])))
		}
		for i := range a.Labels {
			if a.Labels[i] != b.Labels[i] {
				t.Fatalf("%s: image %d has class %d from two ranks, %d from one", split, i, a.Labels[i], b.Labels[i])
			}
		}
		if worst > 1e-5*scale {
			t.Errorf("%s: features differ by %.3g (scale %.3g)", split, worst, scale)
		}
		t.Logf("%s: %d images; the two ranks' features differ from one process's by at most %.3g (scale %.3g)", split, a.Len(), worst, scale)
	}
}
