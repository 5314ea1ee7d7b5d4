package finetune

import (
	"math"
	"os/exec"
	"path/filepath"
	"testing"

	"weaksup/nets"
	"weaksup/torch"
	"weaksup/torch/torchtest"
	"weaksup/train/traintest"
)

// TestImportTorchvisionWeights loads a state_dict written by torchvision
// itself (what converted published ResNeXt weights look like), recognizes
// its architecture from the shapes, and checks the network computes
// torchvision's global-pool features.
func TestImportTorchvisionWeights(t *testing.T) {
	torchtest.Need(t)
	dir := t.TempDir()
	out, err := exec.Command(traintest.Python, filepath.Join("testdata", "torchvision_export.py"), dir, "resnext50_32x4d", "64").CombinedOutput()
	if err != nil {
		t.Fatalf("%s testdata/torchvision_export.py (needs python3-torch and python3-torchvision): %v\n%s", traintest.Python, err, out)
	}
	weights := filepath.Join(dir, "weights.safetensors")
	spec, err := InferSpec(weights)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Arch.Name != "resnext50_32x4d" || spec.Block != nets.Bottleneck || spec.Classes != 1000 {
		t.Fatalf("inferred %s %v %d classes, want resnext50_32x4d bottleneck 1000 classes", spec.Arch.Name, spec.Block, spec.Classes)
	}
	m, _, err := NewModel(ModelConfig{From: weights, Classes: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ref, _, err := nets.LoadTensors(filepath.Join(dir, "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*torch.Tensor{}
	for _, p := range ref {
		defer p.Tensor.Close()
		byName[p.Name] = p.Tensor
	}
	s := torch.NewScope()
	defer s.Close()
	var got *torch.Tensor
	if err := torch.NoGrad(func() error {
		got, err = m.Features(byName["x"], false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	g, err := got.Contiguous().Float32s()
	if err != nil {
		t.Fatal(err)
	}
	w, err := byName["features"].Float32s()
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != len(w) {
		t.Fatalf("got %d features, torchvision %d", len(g), len(w))
	}
	worst := 0.0
	for i := range g {
		d := math.Abs(float64(g[i]-w[i])) / (1 + math.Abs(float64(w[i])))
		worst = math.Max(worst, d)
	}
	if worst > 1e-4 {
		t.Errorf("features differ from torchvision's by up to %.3g (relative), want ≤ 1e-4", worst)
	}
}
