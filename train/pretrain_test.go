package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weaksup/shards"
	"weaksup/torch/torchtest"
)

// writeSquareShards writes generated images as a shard directory the way
// the shards stage lays it out: shard-00000.arrow, val-00000.arrow and a
// manifest.
func writeSquareShards(t *testing.T, train, val *squaresSource) string {
	t.Helper()
	dir := t.TempDir()
	k := train.classes
	m := &shards.Manifest{Version: 1, Created: time.Now().UTC(), Config: shards.DefaultConfig(), NumClasses: k,
		Splits: map[string]*shards.Split{}}
	for c := 0; c < k; c++ {
		m.Tags = append(m.Tags, fmt.Sprintf("color%d", c))
	}
	for _, sp := range []struct {
		name, file string
		src        *squaresSource
	}{{shards.SplitTrain, "shard-00000.arrow", train}, {shards.SplitVal, "val-00000.arrow", val}} {
		w, err := shards.CreateShard(filepath.Join(dir, sp.file))
		if err != nil {
			t.Fatal(err)
		}
		split := &shards.Split{TagCounts: make([]int64, k)}
		for i := range sp.src.images {
			row := shards.Row{Key: fmt.Sprintf("%s-%d", sp.name, i), Image: sp.src.images[i], Labels: sp.src.labels[i]}
			for _, l := range row.Labels {
				row.Tags = append(row.Tags, m.Tags[l])
				split.TagCounts[l]++
			}
			if err := w.Append(&row); err != nil {
				t.Fatal(err)
			}
		}
		info, err := w.Close()
		if err != nil {
			t.Fatal(err)
		}
		split.Shards, split.Rows, split.Bytes = []shards.ShardInfo{info}, info.Rows, info.Bytes
		m.Splits[sp.name] = split
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, shards.ManifestName), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := shards.ReadManifest(dir); err != nil {
		t.Fatalf("the test's shard directory does not read back: %v", err)
	}
	return dir
}

// TestPretrainOnShards runs the pretrain command's code path on a real
// shard directory: a short run, a refusal to start over it, and a resume
// that extends it.
func TestPretrainOnShards(t *testing.T) {
	torchtest.Need(t)
	dir := writeSquareShards(t, newSquares(t, 96, 4, 24, 31), newSquares(t, 32, 4, 24, 32))
	out := t.TempDir()
	c := DefaultPretrainConfig()
	c.Shards, c.Out, c.Arch, c.Steps, c.Batch, c.ImageSize = dir, out, "tiny", 6, 16, 24
	c.CheckpointEvery, c.EvalEvery, c.LogEvery, c.Workers, c.NoPlots = 2, 3, 1, 2, true
	var log strings.Builder
	res, err := Pretrain(context.Background(), c, &log)
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
	data, err := os.ReadFile(filepath.Join(res.Checkpoint, ConfigFile))
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
	if _, err := Pretrain(context.Background(), c, nil); !errors.Is(err, ErrRunExists) {
		t.Fatalf("fresh run over an existing one: %v, want ErrRunExists", err)
	}
	c.Resume = true
	res, err = Pretrain(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 8 {
		t.Errorf("resumed run ended at step %d, want 8", res.Steps)
	}
	rows, err := ReadMetrics(filepath.Join(out, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	last := 0
	for _, r := range rows {
		if r.Kind != RowTrain {
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

func TestPretrainConfigValidate(t *testing.T) {
	good := DefaultPretrainConfig()
	good.Shards, good.Out = "s", "o"
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults with --shards and --out: %v", err)
	}
	tests := []struct {
		name, want string
		edit       func(*PretrainConfig)
	}{
		{"no shards", "--shards", func(c *PretrainConfig) { c.Shards = "" }},
		{"no out", "--out", func(c *PretrainConfig) { c.Out = "" }},
		{"unknown arch", "--arch", func(c *PretrainConfig) { c.Arch = "resnet18" }},
		{"unknown block", "--block", func(c *PretrainConfig) { c.Block = "dense" }},
		{"unknown loss", "--loss", func(c *PretrainConfig) { c.Loss = "hinge" }},
		{"bad device", "--device", func(c *PretrainConfig) { c.Device = "tpu" }},
		{"zero batch", "--batch", func(c *PretrainConfig) { c.Batch = 0 }},
		{"no length", "--steps", func(c *PretrainConfig) { c.Steps, c.Epochs = 0, 0 }},
		{"zero lr", "--lr", func(c *PretrainConfig) { c.LR = 0 }},
		{"tiny image", "--image-size", func(c *PretrainConfig) { c.ImageSize = 4 }},
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
		if _, err := ResolveArch(name); err != nil {
			t.Errorf("ResolveArch(%q): %v", name, err)
		}
	}
}
