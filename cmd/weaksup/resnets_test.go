package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExperimentDepthQuick runs the quick degradation experiment end to
// end (generated CIFAR-format data, plain-8/14 and ResNet-8/14, 2 epochs)
// and checks its table and plots; a second run trains nothing and
// reports the same curves.
func TestExperimentDepthQuick(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCaptured(t, "experiment", "depth", "--quick", "--workdir", dir)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	if !strings.Contains(out, "table: "+filepath.Join(dir, "depth.md")) || !strings.Contains(out, "plain: the deeper net") {
		t.Errorf("stdout:\n%s", out)
	}
	md, err := os.ReadFile(filepath.Join(dir, "depth.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| plain-8 | 8 |", "| plain-14 | 14 |", "| resnet-8 | 8 |", "| resnet-14 | 14 |", "stand-in", "plots/depth.png"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("depth.md lacks %q:\n%s", want, md)
		}
	}
	for _, p := range []string{"depth.png", "depth_plain.png", "depth_resnet.png"} {
		f, err := os.Open(filepath.Join(dir, "plots", p))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(f); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		f.Close()
	}
	read := func() []map[string]any {
		b, err := os.ReadFile(filepath.Join(dir, "depth.json"))
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Results []map[string]any `json:"results"`
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		return rep.Results
	}
	first := read()
	if len(first) != 4 {
		t.Fatalf("%d results, want 4", len(first))
	}
	for _, r := range first {
		if r["status"] != "done" || len(r["curve"].([]any)) != 2 {
			t.Errorf("%v: status %v, %d epochs; want done after 2", r["net"].(map[string]any)["key"], r["status"], len(r["curve"].([]any)))
		}
	}
	code, _, errOut = runCaptured(t, "experiment", "depth", "--quick", "--workdir", dir)
	if code != 0 || strings.Contains(errOut, "epoch 1.0") {
		t.Fatalf("rerun: exit %d, trained again:\n%s", code, errOut)
	}
	again := read()
	for i := range first {
		a, _ := json.Marshal(first[i]["curve"])
		b, _ := json.Marshal(again[i]["curve"])
		if string(a) != string(b) {
			t.Errorf("rerun changed the curve of %v", first[i]["net"])
		}
	}
}

func TestArchCommand(t *testing.T) {
	code, out, errOut := runCaptured(t, "arch", "resnet20")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"resnet20: 20 layers, basic blocks, shortcut A (zero padding)", "layer3  3       [64, 8, 8]", "trainable params: 269,722 (0.27M)", "40.6M per 32x32 image"} {
		if !strings.Contains(out, want) {
			t.Errorf("arch resnet20 lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCaptured(t, "arch", "preact_resnet1001", "--classes", "100")
	if code != 0 || !strings.Contains(out, "1001 layers") || !strings.Contains(out, "(10.35M)") {
		t.Errorf("arch preact_resnet1001 --classes 100: exit %d:\n%s", code, out)
	}
	code, out, _ = runCaptured(t, "arch", "--list")
	for _, want := range []string{"resnet110", "plain56", "preact_resnet164", "resnext50_32x4d", "25.03M"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("arch --list lacks %q:\n%s", want, out)
		}
	}
}
