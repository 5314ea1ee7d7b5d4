package pretrain

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/nets"
	"weaksup/torch/torchtest"
	"weaksup/train"
	"weaksup/train/traintest"
)

// writeSquareShards writes generated images as a shard directory.
func writeSquareShards(t *testing.T, train, val *traintest.Squares) string {
	t.Helper()
	dir := t.TempDir()
	if err := traintest.WriteShards(dir, train, val); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestPretrainOnShards runs the pretrain command's code path on a real
// shard directory: a short run, a refusal to start over it, and a resume
// that extends it.
func TestPretrainOnShards(t *testing.T) {
	torchtest.Need(t)
	dir := writeSquareShards(t, traintest.NewSquares(96, 4, 24, 31), traintest.NewSquares(32, 4, 24, 32))
	out := t.TempDir()
	c := DefaultConfig()
	c.Shards, c.Out, c.Arch, c.Steps, c.Batch, c.ImageSize = dir, out, "tiny", 6, 16, 24
	c.CheckpointEvery, c.EvalEvery, c.LogEvery, c.Workers, c.NoPlots = 2, 3, 1, 2, true
	var log strings.Builder
	res, err := Run(context.Background(), c, &log)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 6 || res.Eval == nil || res.Eval.Images != 32 {
		t.Fatalf("result %+v (eval %+v), want 6 steps and an evaluation of the 32 val images", res, res.Eval)
	}
	if !strings.Contains(log.String(), "precision@1") {
		t.Errorf("log %q does not report the evaluation", log.String())
	}
	if !strings.Contains(log.String(), "per-tag AP") {
		t.Errorf("log %q does not report per-tag AP", log.String())
	}
	if tsv, err := os.ReadFile(filepath.Join(out, TagAPFile)); err != nil || strings.Count(string(tsv), "\n") < 2 {
		t.Errorf("%s: %q, %v; want a header and a row per tag with positives", TagAPFile, tsv, err)
	}
	var saved struct {
		Extra struct {
			Arch       string `json:"arch"`
			ImageSize  int    `json:"image_size"`
			NumClasses int    `json:"num_classes"`
		} `json:"extra"`
		Device string `json:"device"`
	}
	data, err := os.ReadFile(filepath.Join(res.Checkpoint, train.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatal(err)
	}
	if saved.Extra.Arch != "resnext_tiny" || saved.Extra.ImageSize != 24 || saved.Extra.NumClasses != 4 || saved.Device != "cpu" {
		t.Errorf("config.json records %+v, want arch resnext_tiny, image size 24, 4 classes, cpu", saved)
	}

	// A fresh run over it is refused; a resumed one with more steps goes on.
	c.Steps = 8
	if _, err := Run(context.Background(), c, nil); !errors.Is(err, train.ErrRunExists) {
		t.Fatalf("fresh run over an existing one: %v, want ErrRunExists", err)
	}
	c.Resume = true
	res, err = Run(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 8 {
		t.Errorf("resumed run ended at step %d, want 8", res.Steps)
	}
	rows, err := train.ReadMetrics(filepath.Join(out, train.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	last := 0
	for _, r := range rows {
		if r.Kind != train.RowTrain {
			continue
		}
		if r.Step != last+1 {
			t.Errorf("train rows go from step %d to %d, want every step once", last, r.Step)
		}
		last = r.Step
	}
	if last != 8 {
		t.Errorf("last train row at step %d, want 8", last)
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	good.Shards, good.Out = "s", "o"
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults with --shards and --out: %v", err)
	}
	tests := []struct {
		name, want string
		edit       func(*Config)
	}{
		{"no shards", "--shards", func(c *Config) { c.Shards = "" }},
		{"no out", "--out", func(c *Config) { c.Out = "" }},
		{"unknown arch", "--arch", func(c *Config) { c.Arch = "resnet18" }},
		{"unknown block", "--block", func(c *Config) { c.Block = "dense" }},
		{"unknown loss", "--loss", func(c *Config) { c.Loss = "hinge" }},
		{"bad device", "--device", func(c *Config) { c.Device = "tpu" }},
		{"zero batch", "--batch", func(c *Config) { c.Batch = 0 }},
		{"no length", "--steps", func(c *Config) { c.Steps, c.Epochs = 0, 0 }},
		{"zero lr", "--lr", func(c *Config) { c.LR = 0 }},
		{"tiny image", "--image-size", func(c *Config) { c.ImageSize = 4 }},
		{"bad shards URL", "--shards", func(c *Config) { c.Shards = "s3://" }},
		{"bad out URL", "--out", func(c *Config) { c.Out = "ftp://host/run" }},
		{"cache of no size", "--cache-gb", func(c *Config) { c.CacheDir, c.CacheGB = "cache", 0 }},
		{"cache at a URL", "--cache-dir", func(c *Config) { c.CacheDir = "s3://bucket/cache" }},
	}
	for _, tt := range tests {
		c := good
		tt.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one naming %s", tt.name, err, tt.want)
		}
	}
	for _, name := range []string{"tiny", "small", "resnext50_32x4d"} {
		if _, err := nets.LookupArch(name); err != nil {
			t.Errorf("nets.LookupArch(%q): %v", name, err)
		}
	}
}
