package train

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"weaksup/loader"
	"weaksup/nets"
	"weaksup/torch"
)

// stepOnce gives every trainable tensor of m a gradient and takes an SGD
// step, so the optimizer has momentum to save.
func stepOnce(t *testing.T, m *nets.ResNeXt, opt *Optimizer) {
	t.Helper()
	s := torch.NewScope()
	defer s.Close()
	x := torch.Randn(torch.Float32, torch.CPU, 4, 3, 16, 16)
	y, err := m.Forward(x, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := y.Square().Mean().Backward(); err != nil {
		t.Fatal(err)
	}
	if err := opt.Step(0.1); err != nil {
		t.Fatal(err)
	}
	if err := opt.ZeroGrad(); err != nil {
		t.Fatal(err)
	}
}

func tensorBytes(t *testing.T, ps []nets.Param) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range ps {
		b, err := p.Tensor.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		out[p.Name] = string(b)
	}
	return out
}

func TestCheckpointRoundTrip(t *testing.T) {
	m := newTiny(t, 5, 1, nets.Bottleneck)
	defer m.Close()
	opt, err := NewOptimizer(m.Parameters(), defaultSGD)
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Close()
	stepOnce(t, m, opt)
	rng, err := torch.RNGState(torch.CPU)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	st := CheckpointState{Step: 7, Epoch: 1, Images: 112, Loss: 1.25, RNG: rng,
		Loader: &loader.Position{Epoch: 1, Consumed: 48, Seed: 3, World: 1, Sampling: "natural", Items: 64}}
	dir, err := SaveCheckpoint(root, m, opt, st, map[string]any{"arch": "resnext_tiny"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := filepath.Base(dir), "step-000000007"; got != want {
		t.Errorf("checkpoint dir %s, want %s", got, want)
	}
	for _, f := range []string{ModelFile, OptimizerFile, StateFile, ConfigFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("checkpoint lacks %s: %v", f, err)
		}
	}

	// A model and optimizer from another seed take the saved state.
	m2 := newTiny(t, 5, 2, nets.Bottleneck)
	defer m2.Close()
	opt2, err := NewOptimizer(m2.Parameters(), defaultSGD)
	if err != nil {
		t.Fatal(err)
	}
	defer opt2.Close()
	got, err := LoadCheckpoint(dir, m2, opt2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Step != 7 || got.Images != 112 || got.Loss != 1.25 || !reflect.DeepEqual(got.Loader, st.Loader) || string(got.RNG) != string(rng) {
		t.Errorf("state %+v, want %+v", got, st)
	}
	if a, b := tensorBytes(t, m.Parameters()), tensorBytes(t, m2.Parameters()); !reflect.DeepEqual(a, b) {
		t.Error("loaded weights differ from the saved ones")
	}
	if a, b := tensorBytes(t, opt.State()), tensorBytes(t, opt2.State()); !reflect.DeepEqual(a, b) || len(a) == 0 {
		t.Errorf("loaded momentum (%d buffers) differs from the saved (%d)", len(b), len(a))
	}

	// Another architecture is refused, naming a tensor.
	other := newTiny(t, 6, 1, nets.Bottleneck)
	defer other.Close()
	if _, err := LoadCheckpoint(dir, other, nil); err == nil || !strings.Contains(err.Error(), "fc.") {
		t.Errorf("loading 5-class weights into a 6-class model: %v, want an error naming fc", err)
	}
	skip := newTiny(t, 5, 1, nets.SkipInit)
	defer skip.Close()
	if _, err := LoadCheckpoint(dir, skip, nil); err == nil {
		t.Error("loading bottleneck weights into a SkipInit model: no error")
	}

	// A newer format is refused.
	var raw map[string]any
	data, _ := os.ReadFile(filepath.Join(dir, StateFile))
	json.Unmarshal(data, &raw)
	raw["version"] = 99
	data, _ = json.Marshal(raw)
	os.WriteFile(filepath.Join(dir, StateFile), data, 0o644)
	if _, err := LoadCheckpoint(dir, m2, nil); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("format version 99: %v", err)
	}
}

func TestCheckpointKeepsNewestAndCleansUp(t *testing.T) {
	m := newTiny(t, 3, 1, nets.Bottleneck)
	defer m.Close()
	root := t.TempDir()
	// Leftovers of a save killed before its rename.
	stale := filepath.Join(root, ".tmp-"+CheckpointName(4)+"-123")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, ModelFile), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LatestCheckpoint(root); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("only a temporary directory: %v, want ErrNoCheckpoint", err)
	}
	for _, step := range []int{2, 4, 6, 8, 10} {
		if _, err := SaveCheckpoint(root, m, nil, CheckpointState{Step: step}, nil, 3); err != nil {
			t.Fatal(err)
		}
	}
	cks, err := ListCheckpoints(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cks {
		got = append(got, filepath.Base(c))
	}
	want := []string{CheckpointName(6), CheckpointName(8), CheckpointName(10)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("checkpoints %v, want %v", got, want)
	}
	ents, _ := os.ReadDir(root)
	if len(ents) != 3 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("root holds %v, want only the 3 checkpoints", names)
	}
	latest, err := LatestCheckpoint(root)
	if err != nil || filepath.Base(latest) != CheckpointName(10) {
		t.Errorf("LatestCheckpoint = %s, %v; want %s", latest, err, CheckpointName(10))
	}
	// Steps sort numerically past the zero padding's width too.
	if _, err := SaveCheckpoint(root, m, nil, CheckpointState{Step: 1234567890}, nil, 0); err != nil {
		t.Fatal(err)
	}
	if latest, _ := LatestCheckpoint(root); filepath.Base(latest) != CheckpointName(1234567890) {
		t.Errorf("LatestCheckpoint = %s, want step 1234567890", latest)
	}
	if _, err := LatestCheckpoint(filepath.Join(root, "missing")); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("missing directory: %v, want ErrNoCheckpoint", err)
	}
}
