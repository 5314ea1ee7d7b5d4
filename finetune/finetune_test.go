package finetune

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/datasets"
	"weaksup/datasets/datasetstest"
	"weaksup/torch/torchtest"
	"weaksup/train"
)

// tinySpec is a dataset a tiny network learns in a few epochs on 2 cores.
var tinySpec = datasetstest.Spec{K: 3, Train: 8, Val: 4, Size: 20}

func tinyConfig(task, data, out string) Config {
	return Config{Task: task, Data: data, From: FromNone, Arch: "resnext_tiny", Mode: ModeFull, Out: out,
		ImageSize: 16, Batch: 8, Epochs: 2, LR: 0.2, Seed: 1, Workers: 2, CropScale: 0.5}
}

func TestFinetuneThenEvalEveryLayout(t *testing.T) {
	torchtest.Need(t)
	for _, task := range datasets.Layouts {
		t.Run(task, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			datasetstest.Write(t, task, data, tinySpec)
			cfg := tinyConfig(task, data, filepath.Join(dir, "run"))
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatalf("finetune: %v", err)
			}
			if got, want := res.Metrics.Images, tinySpec.K*tinySpec.Val; got != want {
				t.Errorf("finetune evaluated %d val images, want %d", got, want)
			}
			if got, want := res.Steps, cfg.Epochs*tinySpec.K*tinySpec.Train/cfg.Batch; got != want {
				t.Errorf("finetune took %d steps, want %d", got, want)
			}
			for _, f := range []string{ModelFile, RunInfoFile, MetricsJSONFile, ConfusionFile, train.MetricsFile} {
				if _, err := os.Stat(filepath.Join(cfg.Out, f)); err != nil {
					t.Errorf("finetune output: %v", err)
				}
			}
			ecfg := EvalConfig{Config: Config{Task: task, Data: data, From: cfg.Out, Workers: 2, Batch: 5}}
			m, err := Eval(context.Background(), ecfg)
			if err != nil {
				t.Fatalf("eval: %v", err)
			}
			// Eval reloads the saved network and must see what fine-tuning saw.
			if m.Top1 != res.Metrics.Top1 || m.Top5 != res.Metrics.Top5 || m.Images != res.Metrics.Images {
				t.Errorf("eval of the saved model: top-1 %v top-5 %v on %d images, finetune reported %v %v on %d",
					m.Top1, m.Top5, m.Images, res.Metrics.Top1, res.Metrics.Top5, res.Metrics.Images)
			}
			saved, err := readMetrics(filepath.Join(cfg.Out, "eval-"+task+"-val", MetricsJSONFile))
			if err != nil {
				t.Fatal(err)
			}
			// CIFAR's class lists are fixed (10, 100); the fixture uses K of them.
			ds, err := datasets.Open(task, data, datasets.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if k := len(ds.Classes()); saved.Top1 != m.Top1 || len(saved.PerClass) != k || saved.Plot != ConfusionFile {
				t.Errorf("metrics.json: top-1 %v, %d classes, plot %q; want %v, %d, %q", saved.Top1, len(saved.PerClass), saved.Plot, m.Top1, k, ConfusionFile)
			}
		})
	}
}

func TestLinearProbeOnCachedFeatures(t *testing.T) {
	torchtest.Need(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	datasetstest.ImageFolder(t, data, tinySpec)
	// A short full run gives a backbone to probe.
	base := tinyConfig(datasets.ImageFolder, data, filepath.Join(dir, "base"))
	if _, err := Run(context.Background(), base); err != nil {
		t.Fatalf("base run: %v", err)
	}
	cfg := Config{Task: datasets.ImageFolder, Data: data, From: filepath.Join(base.Out, ModelFile), Mode: ModeLinear,
		Out: filepath.Join(dir, "probe"), Epochs: 20, Batch: 8, Seed: 3, Workers: 2}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("linear probe: %v", err)
	}
	if res.CachedFeats {
		t.Error("first probe run: features reported cached")
	}
	if got, want := res.Steps, 20*tinySpec.K*tinySpec.Train/8; got != want {
		t.Errorf("probe steps: got %d, want %d", got, want)
	}
	files, err := featureFiles(filepath.Join(cfg.Out, FeaturesDir))
	if err != nil || len(files) != 2 {
		t.Fatalf("feature cache: got %v (%v), want a train and a val file", files, err)
	}
	// The probe folded into the network classifies images as it classified
	// their cached features.
	m, err := Eval(context.Background(), EvalConfig{Config: Config{Task: datasets.ImageFolder, Data: data, From: cfg.Out, Workers: 2}})
	if err != nil {
		t.Fatalf("eval: %v", err)
	}
	if m.Top1 != res.Metrics.Top1 {
		t.Errorf("eval of the folded probe: top-1 %v, the probe on cached features %v", m.Top1, res.Metrics.Top1)
	}
	// Evaluating on a dataset of other classes is refused, naming both.
	other := filepath.Join(dir, "other")
	datasetstest.ImageFolder(t, other, datasetstest.Spec{K: 2, Train: 1, Val: 1, Size: 8})
	_, err = Eval(context.Background(), EvalConfig{Config: Config{Task: datasets.ImageFolder, Data: other, From: cfg.Out}})
	if err == nil || !strings.Contains(err.Error(), data) || !strings.Contains(err.Error(), other) {
		t.Errorf("eval on other classes: got %v, want an error naming %s and %s", err, data, other)
	}
	// A second run into a fresh directory with the same cache reuses it.
	again := cfg
	again.Out = filepath.Join(dir, "probe2")
	if err := os.CopyFS(filepath.Join(again.Out, FeaturesDir), os.DirFS(filepath.Join(cfg.Out, FeaturesDir))); err != nil {
		t.Fatal(err)
	}
	res2, err := Run(context.Background(), again)
	if err != nil {
		t.Fatalf("second probe: %v", err)
	}
	if !res2.CachedFeats {
		t.Error("second probe run: features recomputed, want the cache used")
	}
	if math.Abs(res2.Metrics.Top1-res.Metrics.Top1) > 1e-9 {
		t.Errorf("same seed, same features: top-1 %v, first run %v", res2.Metrics.Top1, res.Metrics.Top1)
	}
}

func TestRunRefusesToOverwriteACheckpointedRun(t *testing.T) {
	torchtest.Need(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	datasetstest.ImageFolder(t, data, datasetstest.Spec{K: 2, Train: 4, Val: 2, Size: 16})
	cfg := tinyConfig(datasets.ImageFolder, data, filepath.Join(dir, "run"))
	cfg.Epochs = 1
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), cfg)
	if !errors.Is(err, train.ErrRunExists) || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("second run into the same --out: got %v, want an error suggesting --resume", err)
	}
	cfg.Resume = true
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("--resume of a finished run: %v", err)
	}
}

// TestCIFARNetFromScratch trains He et al.'s CIFAR networks from scratch
// on the cifar10 task; eval rebuilds each from its recorded arch (plain8's
// tensors are those of resnet8) and scores what fine-tuning scored.
func TestCIFARNetFromScratch(t *testing.T) {
	torchtest.Need(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	datasetstest.CIFAR10(t, data, tinySpec)
	for _, arch := range []string{"plain8", "resnet8"} {
		cfg := Config{Task: datasets.CIFAR10, Data: data, From: FromNone, Arch: arch, Out: filepath.Join(dir, arch),
			Batch: 8, Epochs: 2, LR: 0.1, Seed: 1, Workers: 2}
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		ri, err := readRunInfo(res.Model)
		if err != nil || ri.Arch != arch || ri.ImageSize != 32 || ri.Shortcut != "A" {
			t.Fatalf("%s: finetune.json %+v (%v)", arch, ri, err)
		}
		m, err := Eval(context.Background(), EvalConfig{Config: Config{Task: datasets.CIFAR10, Data: data, From: cfg.Out, Workers: 2, Batch: 4}})
		if err != nil {
			t.Fatal(err)
		}
		if m.Top1 != res.Metrics.Top1 || m.Images != tinySpec.K*tinySpec.Val {
			t.Errorf("%s: eval top-1 %v on %d images, finetune %v", arch, m.Top1, m.Images, res.Metrics.Top1)
		}
	}
}
