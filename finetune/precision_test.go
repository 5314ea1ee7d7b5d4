package finetune

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"weaksup/datasets"
	"weaksup/datasets/datasetstest"
	"weaksup/torch/torchtest"
	"weaksup/train"
)

// TestPrecisionReachesExtractionAndCache: bf16 features are close to fp32
// ones but not the same numbers, come out as float32, and a linear probe in
// bf16 does not reuse features cached in fp32.
func TestPrecisionReachesExtractionAndCache(t *testing.T) {
	torchtest.Need(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	datasetstest.ImageFolder(t, data, tinySpec)
	ds, err := datasets.OpenImageFolder(data)
	if err != nil {
		t.Fatal(err)
	}
	split, err := ds.Split(datasets.SplitVal)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := NewModel(ModelConfig{From: FromNone, Arch: "resnext_tiny", Classes: tinySpec.K, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	extract := func(p train.Precision) []float32 {
		f, err := extract(context.Background(), m, split, tinySpec.K, ExtractOptions{ImageSize: 16, Batch: 4, Workers: 2, Precision: p})
		if err != nil {
			t.Fatalf("extract in %s: %v", p, err)
		}
		return f.Vectors
	}
	f32, bf16 := extract(train.PrecisionFP32), extract(train.PrecisionBF16)
	var scale, worst float64
	for i := range f32 {
		scale = math.Max(scale, math.Abs(float64(f32[i])))
		worst = math.Max(worst, math.Abs(float64(f32[i])-float64(bf16[i])))
	}
	if worst == 0 || worst > 0.05*scale {
		t.Errorf("bf16 features differ from fp32 ones by %g (largest feature %g); want a small, non-zero difference", worst, scale)
	}

	probe := Config{Task: datasets.ImageFolder, Data: data, From: FromNone, Arch: "resnext_tiny", Mode: ModeLinear,
		Epochs: 2, Batch: 8, Seed: 3, Workers: 2, ImageSize: 16}
	run := func(out string, precision train.Precision) *Result {
		c := probe
		c.Out, c.Precision = out, precision
		res, err := Run(context.Background(), c)
		if err != nil {
			t.Fatalf("linear probe in %s: %v", precision, err)
		}
		return res
	}
	run(filepath.Join(dir, "fp32"), "fp32")
	bfOut := filepath.Join(dir, "bf16")
	if err := os.CopyFS(filepath.Join(bfOut, FeaturesDir), os.DirFS(filepath.Join(dir, "fp32", FeaturesDir))); err != nil {
		t.Fatal(err)
	}
	if res := run(bfOut, "bf16"); res.CachedFeats {
		t.Error("a bf16 probe reused features cached in fp32")
	}
	files, err := featureFiles(filepath.Join(bfOut, FeaturesDir))
	if err != nil || len(files) != 4 || len(slices.Compact(slices.Sorted(slices.Values(files)))) != 4 {
		t.Errorf("feature files after fp32 and bf16: %v (%v), want two of each", files, err)
	}

	c := probe
	c.Out, c.Precision = filepath.Join(dir, "fp16"), "fp16"
	if _, err := Run(context.Background(), c); err == nil || !strings.Contains(err.Error(), "fp16") {
		t.Errorf("fp16 on the CPU: %v, want an error naming fp16", err)
	}
}
