package resnets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"weaksup/datasets"
	"weaksup/internal/testkit"
	"weaksup/nets"
	"weaksup/runs"
	"weaksup/torch/torchtest"
)

func TestGenerateStandIn(t *testing.T) {
	dir := t.TempDir()
	root, err := GenerateStandIn(dir, StandInConfig{Train: 53, Test: 20, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	d, err := datasets.OpenCIFAR10(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Classes()[7].ID; got != "hstripes" {
		t.Errorf("class 7 is %q", got)
	}
	tr, err := d.Split(datasets.SplitTrain)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 10)
	for i := range tr.Len() {
		counts[tr.Class(i)]++
	}
	for c, n := range counts {
		if n != 5 && n != 6 {
			t.Errorf("class %d has %d of 53 images, want 5 or 6", c, n)
		}
	}
	// The same config reuses the files; another seed draws other images.
	batch := filepath.Join(root, datasets.CIFAR10Batch(1))
	st1, _ := os.Stat(batch)
	before, _ := os.ReadFile(batch)
	time.Sleep(10 * time.Millisecond)
	if _, err := GenerateStandIn(dir, StandInConfig{Train: 53, Test: 20, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(batch); !st2.ModTime().Equal(st1.ModTime()) {
		t.Errorf("the same config wrote the stand-in again")
	}
	if _, err := GenerateStandIn(dir, StandInConfig{Train: 53, Test: 20, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(batch); bytes.Equal(before, after) {
		t.Errorf("seed 5 drew the images of seed 4")
	}
}

// TestWidthNetsFindThePapersPairs: the fixed-budget search finds Xie et
// al.'s pairs (Table 2: 1×64d, 2×40d, 4×24d, 8×14d, 32×4d) on both the
// ResNeXt-29 and the ResNeXt-50 templates.
func TestWidthNetsFindThePapersPairs(t *testing.T) {
	for _, c := range []WidthConfig{
		{Layers: []int{3, 3, 3}, Planes: []int{64, 128, 256}},
		{Layers: []int{3, 4, 6, 3}, Planes: []int{64, 128, 256, 512}},
	} {
		c.Cardinalities, c.BaseWidth, c.StemWidth = []int{1, 2, 4, 8, 32}, 64, 64
		list, err := WidthNets(c, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var budget int64
		for i, n := range list {
			got = append(got, n.Label)
			s, err := nets.Summarize(nets.Options{Arch: n.Arch, NumClasses: 10}, 32)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				budget = s.Params
			}
			if d := float64(s.Params-budget) / float64(budget); d > 0.03 || d < -0.03 {
				t.Errorf("%s: %d parameters, %.1f%% off the budget %d", n.Label, s.Params, 100*d, budget)
			}
		}
		if want := "[1×64d 2×40d 4×24d 8×14d 32×4d]"; fmt.Sprint(got) != want {
			t.Errorf("layers %v: %v, want %s", c.Layers, got, want)
		}
	}
}

func tinyData(t *testing.T) *Data {
	t.Helper()
	root, err := GenerateStandIn(t.TempDir(), StandInConfig{Train: 48, Test: 16, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	d, err := OpenData(datasets.CIFAR10, root, datasets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func tinyRecipe() Recipe {
	rc := PaperRecipe()
	rc.Batch, rc.Epochs, rc.Milestones, rc.MilestoneFractions, rc.EvalTrain, rc.Workers = 16, 2, nil, []float64{0.5}, 32, 2
	return rc
}

// TestRunsResumeExactly interrupts a run after its first epoch and
// resumes it: the curve equals an uninterrupted run's, bit for bit.
func TestRunsResumeExactly(t *testing.T) {
	torchtest.Need(t)
	data := tinyData(t)
	a, _ := nets.CIFARResNet(8)
	list := []Net{{Key: "resnet8", Label: "resnet-8", Arch: a}}
	whole := &Runs{Name: "t", Workdir: t.TempDir(), Data: data, Recipe: tinyRecipe(), Nets: list}
	want, err := whole.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 1 || len(want[0].Curve) != 2 || want[0].Status != StatusDone {
		t.Fatalf("uninterrupted run: %+v", want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &testkit.CancelOn{Marker: "epoch 1.0", Cancel: cancel}
	parts := &Runs{Name: "t", Workdir: t.TempDir(), Data: data, Recipe: tinyRecipe(), Nets: list, Log: log}
	if _, err := parts.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	r, err := readResult(filepath.Join(parts.Workdir, "t", "resnet8"))
	if err != nil || r == nil || len(r.Curve) != 1 || r.Status != StatusRunning {
		t.Fatalf("after the interruption: %+v (%v), want one epoch, running", r, err)
	}
	parts.Log = nil
	got, err := parts.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range want[0].Curve {
		w, g := want[0].Curve[i], got[0].Curve[i]
		w.Seconds, g.Seconds = 0, 0
		if w != g {
			t.Errorf("epoch %d: resumed %+v, uninterrupted %+v", i+1, g, w)
		}
	}
	// Another recipe in the same directory is refused.
	other := *parts
	other.Recipe.LR = 0.05
	if _, err := other.Run(context.Background()); err == nil || !strings.Contains(err.Error(), runs.ConfigFile) {
		t.Errorf("another recipe: %v, want a refusal naming the recorded configuration", err)
	}
}

// TestRunsRecordDivergence: a net whose loss becomes NaN is recorded
// as diverged, with the step, and not run again.
func TestRunsRecordDivergence(t *testing.T) {
	torchtest.Need(t)
	data := tinyData(t)
	list, err := InitNets([]string{"nonorm"}, []int{14})
	if err != nil {
		t.Fatal(err)
	}
	rc := tinyRecipe()
	rc.LR = 1e4
	runs := &Runs{Name: "init", Workdir: t.TempDir(), Data: data, Recipe: rc, Nets: list}
	res, err := runs.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Status != StatusDiverged || r.DivergedAt < 1 || r.DivergedAt > r.Steps || !strings.HasPrefix(r.Verdict(10), "diverged at step") {
		t.Fatalf("result %+v, verdict %q; want diverged at a step", r, r.Verdict(10))
	}
	var log bytes.Buffer
	runs.Log = &log
	again, err := runs.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "diverged at step") || strings.Contains(log.String(), "epoch") || !reflect.DeepEqual(again[0].Curve, r.Curve) {
		t.Errorf("rerun of a diverged net:\n%s", log.String())
	}
}
