package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/nets"
	"weaksup/shards"
	"weaksup/torch/torchtest"
)

// TestShards: the generated shards pass shards.Verify, hold the rows asked
// for with one or two labels each, and carry both labels' tags.
func TestShards(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"shards", "--out", dir, "--images", "40", "--val", "8", "--size", "16", "--classes", "4"}, &out); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := shards.Verify(dir, &log); err != nil {
		t.Fatalf("verify: %v\n%s", err, log.String())
	}
	m, err := shards.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.NumClasses != 4 || m.Splits[shards.SplitTrain].Rows != 40 || m.Splits[shards.SplitVal].Rows != 8 {
		t.Errorf("manifest: %d classes, %d train and %d val rows; want 4, 40, 8",
			m.NumClasses, m.Splits[shards.SplitTrain].Rows, m.Splits[shards.SplitVal].Rows)
	}
	var labels int64
	for _, c := range m.Splits[shards.SplitTrain].TagCounts {
		labels += c
	}
	if labels < 40 || labels > 80 {
		t.Errorf("%d labels over 40 images, want one or two each", labels)
	}
}

// TestStep: a step case holds the starting weights, the inputs with their
// optimizer settings, and the step's logits, a gradient per parameter and
// every parameter and buffer after the step.
func TestStep(t *testing.T) {
	torchtest.Need(t)
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"step", "--out", dir, "--arch", "tiny", "--size", "16", "--batch", "2", "--classes", "5",
		"--device", "cpu", "--precisions", "fp32,bf16"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"fp32", "bf16"} {
		d := filepath.Join(dir, "tiny-"+p)
		model, _, err := nets.LoadTensors(filepath.Join(d, "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		_, meta, err := nets.LoadTensors(filepath.Join(d, "inputs.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if meta["precision"] != p || meta["lr"] != "0.1" {
			t.Errorf("%s: inputs metadata %v", p, meta)
		}
		got, _, err := nets.LoadTensors(filepath.Join(d, "weaksup.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, q := range got {
			names[q.Name] = true
		}
		if !names["logits"] {
			t.Errorf("%s: no logits", p)
		}
		for _, q := range model {
			if !names["after."+q.Name] {
				t.Errorf("%s: no after.%s", p, q.Name)
			}
			if !strings.Contains(q.Name, "running_") && !strings.HasSuffix(q.Name, "num_batches_tracked") && !names["grad."+q.Name] {
				t.Errorf("%s: no grad.%s", p, q.Name)
			}
		}
	}
}

// TestGroupOnOneRank: every collective and the reducer on a one-rank Gloo
// group.
func TestGroupOnOneRank(t *testing.T) {
	torchtest.Need(t)
	var out bytes.Buffer
	if err := run([]string{"group", "--device", "cpu", "--backend", "gloo"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "the reducer (") {
		t.Errorf("output %q", out.String())
	}
}
