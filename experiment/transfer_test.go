package experiment

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/datasets"
	"weaksup/finetune"
	"weaksup/pretrain"
	"weaksup/train"
)

// A two-point noise sweep on the quick world pretrains once per value with
// that noise level recorded in the run, probes each, and writes the table,
// the JSON and the plot.
func TestNoiseSweepOnQuickWorld(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dc := QuickDemo(dir)
	shardsDir, target, err := PrepareDemoData(ctx, dc)
	if err != nil {
		t.Fatal(err)
	}
	pc := pretrain.DefaultConfig()
	pc.Shards, pc.Arch, pc.ImageSize, pc.Batch, pc.Steps, pc.EvalEvery = shardsDir, "tiny", 32, 32, 8, -1
	s := &Sweep{Name: "noise", Setting: "label noise p", Values: []float64{0, 0.5}, Workdir: dir, Pretrain: pc,
		Target: finetune.Config{Task: datasets.ImageNet, Data: target, ImageSize: 32, Epochs: 5},
		Apply:  func(pc *pretrain.Config, v float64) error { pc.Noise = v; return nil }}
	pts, err := s.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 2 {
		t.Fatalf("points = %d, want 2", len(pts))
	}
	for i, p := range pts {
		if p.Value != s.Values[i] || p.Top1 <= 0 || p.Top1 > 1 {
			t.Errorf("point %d = %+v, want value %v and top-1 in (0, 1]", i, p, s.Values[i])
		}
		// The noise level reached the pretraining run's recorded config.
		latest, err := train.LatestCheckpoint(train.CheckpointsDir(p.Pretrain))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(latest, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		want := `"noise": 0.5`
		if p.Value == 0 {
			want = `"noise": 0,`
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s/config.json lacks %s", latest, want)
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "noise.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| 0.5 |") || !strings.Contains(string(md), "| 0 |") {
		t.Errorf("noise.md lacks a row per value:\n%s", md)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "plots", "noise.png")); err != nil || string(b[1:4]) != "PNG" {
		t.Errorf("plots/noise.png: %v", err)
	}
}
