package finetune

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"weaksup/nets"
	"weaksup/torch"
	"weaksup/torch/torchtest"
	"weaksup/train"
)

func saveModel(t *testing.T, path string, arch string, block nets.Block, classes int) *nets.ResNeXt {
	t.Helper()
	a, err := nets.LookupArch(arch)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nets.NewResNeXt(nets.Options{Arch: a, NumClasses: classes, Block: block})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(path, nil); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInferSpecRecognizesSavedNetworks(t *testing.T) {
	torchtest.Need(t)
	cases := []struct {
		arch    string
		block   nets.Block
		classes int
	}{
		{"resnext_tiny", nets.Bottleneck, 7},
		{"resnext_tiny", nets.PreAct, 3},
		{"resnext_tiny", nets.SkipInit, 12},
		{"resnext29_small", nets.Bottleneck, 10},
	}
	for _, tc := range cases {
		t.Run(tc.arch+"/"+tc.block.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "model.safetensors")
			saveModel(t, path, tc.arch, tc.block, tc.classes).Close()
			got, err := InferSpec(path)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := nets.LookupArch(tc.arch)
			if got.Arch.Name != want.Name || !sameTable(got.Arch, want) || got.Block != tc.block || got.Classes != tc.classes {
				t.Errorf("got %s %+v %v %d classes, want %s %v %d classes", got.Arch.Name, got.Arch, got.Block, got.Classes, tc.arch, tc.block, tc.classes)
			}
		})
	}
}

// TestInferSpecCIFARNets reads back basic-block nets: the table, the
// design and the shortcut option from the tensors, and plain-n (whose
// tensors are those of ResNet-n with option A) from the recorded arch.
func TestInferSpecCIFARNets(t *testing.T) {
	torchtest.Need(t)
	cases := []struct {
		arch      string
		o         nets.Options
		record    bool
		wantName  string
		wantBlock nets.Block
		wantShort nets.Shortcut
	}{
		{"resnet8", nets.Options{}, false, "resnet8", nets.Basic, nets.ShortcutA},
		{"resnet20", nets.Options{Shortcut: nets.ShortcutB}, false, "resnet20", nets.Basic, nets.ShortcutB},
		{"plain20", nets.Options{}, true, "plain20", nets.Plain, nets.ShortcutA},
		{"plain20", nets.Options{}, false, "resnet20", nets.Basic, nets.ShortcutA}, // no record: the residual net
		{"resnet14", nets.Options{Block: nets.SkipInit}, false, "resnet14", nets.SkipInit, nets.ShortcutA},
		{"resnet14", nets.Options{Block: nets.PlainNoNorm}, true, "resnet14", nets.PlainNoNorm, nets.ShortcutA},
		{"resnet14", nets.Options{Block: nets.NoNorm, Shortcut: nets.ShortcutB}, false, "resnet14", nets.NoNorm, nets.ShortcutB},
		{"resnet14", nets.Options{Block: nets.PreAct}, false, "resnet14", nets.PreAct, nets.ShortcutA},
		{"preact_resnet11", nets.Options{}, true, "preact_resnet11", nets.PreAct, nets.ShortcutB},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%v/record=%v", tc.arch, tc.o.Block, tc.record), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, train.ModelFile)
			a, err := nets.LookupArch(tc.arch)
			if err != nil {
				t.Fatal(err)
			}
			o := tc.o
			o.Arch, o.NumClasses = a, 10
			m, err := nets.NewResNeXt(o)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if err := m.Save(path, nil); err != nil {
				t.Fatal(err)
			}
			if tc.record {
				ri := RunInfo{Arch: a.Name, Block: m.Options().Block.String()}
				if err := writeJSON(filepath.Join(dir, RunInfoFile), ri); err != nil {
					t.Fatal(err)
				}
			}
			got, err := InferSpec(path)
			if err != nil {
				t.Fatal(err)
			}
			if got.Arch.Name != tc.wantName || got.Block != tc.wantBlock || got.Shortcut != tc.wantShort || got.Classes != 10 {
				t.Errorf("got %s %v %v %d classes, want %s %v %v", got.Arch.Name, got.Block, got.Shortcut, got.Classes, tc.wantName, tc.wantBlock, tc.wantShort)
			}
			// The inferred spec builds a network that loads the weights.
			m2, _, err := NewModel(ModelConfig{From: path, Classes: 10, KeepHead: true})
			if err != nil {
				t.Fatal(err)
			}
			m2.Close()
		})
	}
}

func TestInferSpecRejectsOtherFiles(t *testing.T) {
	torchtest.Need(t)
	dir := t.TempDir()
	notModel := filepath.Join(dir, "other.safetensors")
	if err := nets.SaveTensors(notModel, []nets.Param{{Name: "embedding.weight", Tensor: torch.Zeros(torch.Float32, torch.CPU, 4, 2)}}, nil); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.safetensors")
	os.WriteFile(garbage, []byte("not a safetensors file at all"), 0o644)
	for _, p := range []string{notModel, garbage} {
		if _, err := InferSpec(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("infer %s: got %v, want an error naming the file", p, err)
		}
	}
}

func TestResolveFrom(t *testing.T) {
	torchtest.Need(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "weights.safetensors")
	saveModel(t, file, "resnext_tiny", nets.Bottleneck, 2).Close()
	// A run directory with two checkpoints: the newest wins.
	run := filepath.Join(dir, "run")
	for _, step := range []int{5, 40} {
		saveModel(t, filepath.Join(train.CheckpointsDir(run), train.CheckpointName(step), train.ModelFile), "resnext_tiny", nets.Bottleneck, 2).Close()
		os.WriteFile(filepath.Join(train.CheckpointsDir(run), train.CheckpointName(step), train.StateFile), []byte(`{"version":1}`), 0o644)
		os.WriteFile(filepath.Join(train.CheckpointsDir(run), train.CheckpointName(step), train.OptimizerFile), nil, 0o644)
		os.WriteFile(filepath.Join(train.CheckpointsDir(run), train.CheckpointName(step), train.ConfigFile), []byte(`{}`), 0o644)
	}
	newest := filepath.Join(train.CheckpointsDir(run), train.CheckpointName(40), train.ModelFile)
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
	os.WriteFile(filepath.Join(dir, "model.pt"), []byte("x"), 0o644)
	cases := []struct {
		from, want, wantErr string
	}{
		{FromNone, "", ""},
		{file, file, ""},
		{run, newest, ""},
		{train.CheckpointsDir(run), newest, ""},
		{filepath.Dir(newest), newest, ""},
		{filepath.Join(dir, "missing"), "", "missing"},
		{filepath.Join(dir, "empty"), "", "no model.safetensors"},
		{filepath.Join(dir, "model.pt"), "", "not a .safetensors"},
	}
	for _, tc := range cases {
		got, err := ResolveFrom(tc.from)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("resolve %s: got %q, %v; want an error containing %q", tc.from, got, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("resolve %s: got %q, %v; want %q", tc.from, got, err, tc.want)
		}
	}
}

func TestNewModelKeepsBackboneAndReplacesHead(t *testing.T) {
	torchtest.Need(t)
	path := filepath.Join(t.TempDir(), "pre.safetensors")
	src := saveModel(t, path, "resnext_tiny", nets.Bottleneck, 9)
	defer src.Close()
	m, weights, err := NewModel(ModelConfig{From: path, Classes: 4, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if weights != path {
		t.Errorf("weights: got %s, want %s", weights, path)
	}
	if got := m.Options().NumClasses; got != 4 {
		t.Errorf("head: got %d classes, want 4", got)
	}
	for _, p := range src.Parameters() {
		if strings.HasPrefix(p.Name, "fc.") {
			continue
		}
		a, _ := p.Tensor.Contiguous().Bytes()
		b, _ := m.Param(p.Name).Contiguous().Bytes()
		if !slices.Equal(a, b) {
			t.Fatalf("%s differs from the pretrained tensor", p.Name)
		}
	}
	if _, _, err := NewModel(ModelConfig{From: path, Classes: 4, KeepHead: true}); err == nil || !strings.Contains(err.Error(), "9 classes") {
		t.Errorf("keep a 9-class head for 4 classes: got %v, want an error naming the 9 classes", err)
	}
	if _, _, err := NewModel(ModelConfig{From: path, Arch: "resnext29_small", Classes: 4}); err == nil {
		t.Error("--arch resnext29_small for resnext_tiny weights: got no error")
	}
	scratch, _, err := NewModel(ModelConfig{From: FromNone, Arch: "small", Block: "preact", Classes: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got := scratch.Options(); got.Arch.Name != "resnext29_small" || got.Block != nets.PreAct {
		t.Errorf("--arch small --block preact: got %s %v, want resnext29_small preact", got.Arch.Name, got.Block)
	}
	scratch.Close()
	if _, _, err := NewModel(ModelConfig{From: FromNone, Classes: 4}); err == nil || !strings.Contains(err.Error(), "--arch") {
		t.Errorf("--from none without --arch: got %v, want an error naming --arch", err)
	}
}
