package nets

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/torch"
	"weaksup/torch/torchtest"
)

func newModel(t *testing.T, arch string, o Options) *ResNeXt {
	t.Helper()
	torchtest.Need(t)
	a, err := LookupArch(arch)
	if err != nil {
		t.Fatal(err)
	}
	o.Arch = a
	if o.NumClasses == 0 {
		o.NumClasses = 10
	}
	m, err := NewResNeXt(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// TestParameterCounts checks the trainable sizes against torchvision's
// published counts (torchvision.models docs, "num_params").
func TestParameterCounts(t *testing.T) {
	tests := []struct {
		arch string
		want int64
	}{
		{"resnext50_32x4d", 25028904},
		{"resnext101_32x8d", 88791336},
	}
	for _, tc := range tests {
		t.Run(tc.arch, func(t *testing.T) {
			m := newModel(t, tc.arch, Options{NumClasses: 1000})
			if got := m.NumParameters(); got != tc.want {
				t.Errorf("parameters: got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestStateDictNames(t *testing.T) {
	m := newModel(t, "resnext50_32x4d", Options{NumClasses: 5})
	ps := m.Parameters()
	// 53 BN layers × 5 tensors + 53 convs + fc weight and bias.
	if len(ps) != 53*5+53+2 {
		t.Errorf("state_dict has %d tensors, want %d", len(ps), 53*5+53+2)
	}
	want := map[string][]int64{
		"conv1.weight":                      {64, 3, 7, 7},
		"bn1.running_mean":                  {64},
		"bn1.num_batches_tracked":           {},
		"layer1.0.conv2.weight":             {128, 4, 3, 3},
		"layer1.0.downsample.0.weight":      {256, 64, 1, 1},
		"layer1.0.downsample.1.running_var": {256},
		"layer2.0.conv2.weight":             {256, 8, 3, 3},
		"layer4.2.bn3.weight":               {2048},
		"fc.weight":                         {5, 2048},
		"fc.bias":                           {5},
	}
	for name, shape := range want {
		p := m.Param(name)
		if p == nil {
			t.Errorf("%s: missing", name)
			continue
		}
		if got := p.Shape(); fmt.Sprint(got) != fmt.Sprint(shape) {
			t.Errorf("%s: shape %v, want %v", name, got, shape)
		}
	}
	if m.Param("layer1.1.downsample.0.weight") != nil {
		t.Errorf("an identity block has a projection shortcut")
	}
	for _, p := range ps {
		if p.Buffer == p.Tensor.RequiresGrad() {
			t.Errorf("%s: buffer=%v but requires grad=%v", p.Name, p.Buffer, p.Tensor.RequiresGrad())
		}
	}
}

func TestInitFollowsMSRA(t *testing.T) {
	m := newModel(t, "resnext50_32x4d", Options{NumClasses: 1000, ZeroInitLastBN: true})
	s := torch.NewScope()
	defer s.Close()
	std := func(name string) float64 {
		v, err := m.Param(name).Float32s()
		if err != nil {
			t.Fatal(err)
		}
		var sum, sq float64
		for _, x := range v {
			sum += float64(x)
			sq += float64(x) * float64(x)
		}
		mean := sum / float64(len(v))
		return math.Sqrt(sq/float64(len(v)) - mean*mean)
	}
	tests := []struct {
		name string
		want float64
	}{
		{"conv1.weight", math.Sqrt(2.0 / (64 * 49))},
		{"layer3.0.conv2.weight", math.Sqrt(2.0 / (512 * 9))}, // fan-out ignores groups, as PyTorch does
		{"layer4.0.conv3.weight", math.Sqrt(2.0 / 2048)},
		{"fc.weight", 1 / math.Sqrt(2048) / math.Sqrt(3)}, // U(-b, b) has std b/√3
	}
	for _, tc := range tests {
		if got := std(tc.name); math.Abs(got-tc.want) > 0.05*tc.want {
			t.Errorf("%s: std %.5f, want %.5f", tc.name, got, tc.want)
		}
	}
	for _, name := range []string{"layer1.0.bn3.weight", "layer4.2.bn3.weight", "layer2.1.bn2.weight", "bn1.weight"} {
		v, _ := m.Param(name).Float32s()
		zero := strings.HasSuffix(name, "bn3.weight")
		if (v[0] == 0) != zero {
			t.Errorf("%s[0] = %v with ZeroInitLastBN", name, v[0])
		}
	}
}

// TestInitXavier checks the other named init against xavier_normal_'s
// standard deviation, sqrt(2 / (fan_in + fan_out)) with fan_in counting
// the input channels of one group.
func TestInitXavier(t *testing.T) {
	m := newModel(t, "resnext50_32x4d", Options{NumClasses: 1000, Init: Xavier})
	s := torch.NewScope()
	defer s.Close()
	tests := []struct {
		name    string
		fanIn   float64
		fanOut  float64
		entries int
	}{
		{"conv1.weight", 3 * 49, 64 * 49, 64 * 3 * 49},
		{"layer3.0.conv2.weight", 16 * 9, 512 * 9, 512 * 16 * 9},
		{"layer4.0.conv3.weight", 1024, 2048, 2048 * 1024},
	}
	for _, tc := range tests {
		v, err := m.Param(tc.name).Float32s()
		if err != nil || len(v) != tc.entries {
			t.Fatalf("%s: %d values, %v", tc.name, len(v), err)
		}
		var sq float64
		for _, x := range v {
			sq += float64(x) * float64(x)
		}
		got, want := math.Sqrt(sq/float64(len(v))), math.Sqrt(2/(tc.fanIn+tc.fanOut))
		if math.Abs(got-want) > 0.05*want {
			t.Errorf("%s: std %.5f, want %.5f", tc.name, got, want)
		}
	}
	if _, err := NewResNeXt(Options{Arch: m.Options().Arch, NumClasses: 2, Init: Init(7)}); err == nil {
		t.Errorf("Init(7): got no error")
	}
}

// TestStageShortcuts checks makeStage's rule in every design: a block gets
// a projection shortcut exactly when its stride or width changes, with a
// BN only where the design has batch norm and a bias only where it has
// none.
func TestStageShortcuts(t *testing.T) {
	torchtest.Need(t)
	// The stem is as wide as the first stage's output: layer1.0 keeps
	// the identity, layer2.0 halves the resolution and doubles the width.
	a := Arch{Name: "flat", Layers: []int{2, 2}, Planes: []int{16, 32}, Groups: 4, WidthPerGroup: 16, SmallStem: true, StemWidth: 64}
	for _, block := range []Block{Bottleneck, PreAct, SkipInit} {
		t.Run(block.String(), func(t *testing.T) {
			m, err := NewResNeXt(Options{Arch: a, NumClasses: 3, Block: block})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			want := map[string]bool{
				"layer1.0.downsample.0.weight":      false,
				"layer1.1.downsample.0.weight":      false,
				"layer2.0.downsample.0.weight":      true,
				"layer2.1.downsample.0.weight":      false,
				"layer2.0.downsample.1.weight":      block == Bottleneck,
				"layer2.0.downsample.0.bias":        block == SkipInit,
				"layer2.0.downsample.1.running_var": block == Bottleneck,
			}
			for name, w := range want {
				if got := m.Param(name) != nil; got != w {
					t.Errorf("%s: present %v, want %v", name, got, w)
				}
			}
			if p := m.Param("layer2.0.downsample.0.weight"); p != nil {
				if got := fmt.Sprint(p.Shape()); got != "[128 64 1 1]" {
					t.Errorf("layer2.0.downsample.0.weight shape %s, want [128 64 1 1]", got)
				}
			}
			s := torch.NewScope()
			defer s.Close()
			y := mustForward(t, m, torch.Randn(torch.Float32, torch.CPU, 2, 3, 16, 16))
			if got := fmt.Sprint(y.Shape()); got != "[2 3]" {
				t.Errorf("logits shape %s, want [2 3]", got)
			}
		})
	}
}

func TestBlockVariantsTrain(t *testing.T) {
	for _, block := range []Block{Bottleneck, PreAct, SkipInit} {
		for _, arch := range []string{"resnext_tiny", "resnext50_32x4d"} {
			t.Run(fmt.Sprintf("block=%v/arch=%s", block, arch), func(t *testing.T) {
				if err := torch.ManualSeed(3); err != nil {
					t.Fatal(err)
				}
				m := newModel(t, arch, Options{NumClasses: 7, Block: block, ChannelsLast: true})
				s := torch.NewScope()
				defer s.Close()
				size := int64(32)
				if arch == "resnext50_32x4d" {
					size = 64
				}
				x := torch.Randn(torch.Float32, torch.CPU, 2, 3, size, size)
				y, err := m.Forward(x, true)
				if err != nil {
					t.Fatal(err)
				}
				if got := y.Shape(); fmt.Sprint(got) != "[2 7]" {
					t.Fatalf("logits shape %v, want [2 7]", got)
				}
				if err := y.Sum().Backward(); err != nil {
					t.Fatal(err)
				}
				// Every trainable tensor that the output depends on at
				// init has a gradient; the fc bias always does.
				if g := m.Param("fc.bias").Grad(); g == nil {
					t.Errorf("fc.bias has no gradient")
				}
				if block == SkipInit {
					// alpha = 0: the branch does not reach the output,
					// but alpha itself gets a gradient.
					g, _ := m.Param("layer1.0.alpha").Grad().Float32s()
					if len(g) != 1 || g[0] == 0 {
						t.Errorf("layer1.0.alpha gradient %v, want non-zero", g)
					}
				}
				f, err := m.Features(x, false)
				if err != nil {
					t.Fatal(err)
				}
				if got := f.Shape(); got[1] != int64(m.Options().Arch.FeatureDim()) {
					t.Errorf("features shape %v, want [2 %d]", got, m.Options().Arch.FeatureDim())
				}
			})
		}
	}
}

func TestSkipInitStartsAsIdentityBranches(t *testing.T) {
	m := newModel(t, "resnext_tiny", Options{Block: SkipInit})
	s := torch.NewScope()
	defer s.Close()
	x := torch.Randn(torch.Float32, torch.CPU, 2, 3, 32, 32)
	before, _ := mustForward(t, m, x).Float32s()
	// With every alpha at 0, the residual branches' convs do not matter.
	err := torch.NoGrad(func() error {
		return m.Param("layer2.0.conv2.weight").MulScalarInPlace(5)
	})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := mustForward(t, m, x).Float32s()
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("logit %d changed from %v to %v", i, before[i], after[i])
		}
	}
}

func mustForward(t *testing.T, m *ResNeXt, x *torch.Tensor) *torch.Tensor {
	t.Helper()
	y, err := m.Forward(x, false)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

func TestSaveLoadRoundTrip(t *testing.T) {
	torchtest.Need(t)
	torch.ManualSeed(1)
	a := newModel(t, "resnext_tiny", Options{NumClasses: 6, ChannelsLast: true})
	torch.ManualSeed(2)
	b := newModel(t, "resnext_tiny", Options{NumClasses: 6})
	s := torch.NewScope()
	defer s.Close()
	x := torch.Randn(torch.Float32, torch.CPU, 2, 3, 32, 32)
	// A train-mode pass moves the running statistics off their init.
	if _, err := a.Forward(x, true); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := a.Save(path, map[string]string{"arch": "resnext_tiny"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Load(path, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	ya, _ := mustForward(t, a, x).Float32s()
	yb, _ := mustForward(t, b, x).Float32s()
	if rel, i, ok := testkit.CloseTo(yb, ya, 1e-5); !ok {
		t.Errorf("logit %d after load: got %v, want %v (%.3g)", i, yb[i], ya[i], rel)
	}

	// A new head: loading must skip fc, and only then succeed.
	c := newModel(t, "resnext_tiny", Options{NumClasses: 3})
	if err := c.Load(path, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "fc.weight") {
		t.Errorf("loading a 6-class fc into a 3-class model: got %v", err)
	}
	if err := c.Load(path, LoadOptions{IgnoreHead: true}); err != nil {
		t.Errorf("load with IgnoreHead: %v", err)
	}
	d := newModel(t, "resnext_tiny", Options{Block: PreAct})
	if err := d.Load(path, LoadOptions{}); err == nil {
		t.Errorf("loading bottleneck weights into a pre-activation net: got no error")
	}
}

func TestReplaceHead(t *testing.T) {
	m := newModel(t, "resnext_tiny", Options{NumClasses: 4})
	n0, _ := torch.Live()
	before := len(m.Trainable())
	if err := m.ReplaceHead(9); err != nil {
		t.Fatal(err)
	}
	if got := m.Param("fc.weight").Shape(); fmt.Sprint(got) != "[9 256]" {
		t.Errorf("fc.weight shape %v, want [9 256]", got)
	}
	if after := len(m.Trainable()); after != before {
		t.Errorf("trainable tensors: %d before, %d after", before, after)
	}
	if n1, _ := torch.Live(); n1 != n0 {
		t.Errorf("live tensors %d → %d: the old head leaked", n0, n1)
	}
	s := torch.NewScope()
	defer s.Close()
	y := mustForward(t, m, torch.Randn(torch.Float32, torch.CPU, 1, 3, 32, 32))
	if got := y.Shape(); got[1] != 9 {
		t.Errorf("logits %v after the new head", got)
	}
	if err := m.ReplaceHead(0); err == nil {
		t.Errorf("ReplaceHead(0): got no error")
	}
}

func TestArchLookupAndValidation(t *testing.T) {
	for _, name := range ArchNames() {
		a, err := LookupArch(name)
		if err != nil || a.validate() != nil {
			t.Errorf("%s: %v %v", name, err, a.validate())
		}
	}
	if _, err := LookupArch("resnet50"); !errors.Is(err, ErrUnknownArch) {
		t.Errorf("LookupArch(resnet50): got %v, want ErrUnknownArch", err)
	}
	bad := []Arch{
		{Name: "no stages", Groups: 1, WidthPerGroup: 4, StemWidth: 8},
		{Name: "mismatch", Layers: []int{1}, Planes: []int{16, 32}, Groups: 1, WidthPerGroup: 64, StemWidth: 8},
		{Name: "too narrow", Layers: []int{1}, Planes: []int{8}, Groups: 32, WidthPerGroup: 4, StemWidth: 8},
	}
	for _, a := range bad {
		if _, err := NewResNeXt(Options{Arch: a, NumClasses: 2}); err == nil {
			t.Errorf("%s: got no error", a.Name)
		}
	}
	for _, s := range []string{"bottleneck", "preact", "skipinit", "basic", "plain", "nonorm", "plain-nonorm"} {
		b, err := ParseBlock(s)
		if err != nil || b.String() != s {
			t.Errorf("ParseBlock(%q): got %v, %v", s, b, err)
		}
	}
	if _, err := ParseBlock("resnet"); err == nil {
		t.Errorf("ParseBlock(resnet): got no error")
	}
}

// TestForwardDoesNotLeak runs forward, backward and an SGD step of the tiny
// net and checks that no tensor outlives its step.
func TestForwardDoesNotLeak(t *testing.T) {
	m := newModel(t, "resnext_tiny", Options{ChannelsLast: true})
	params := m.Trainable()
	mom := make([]*torch.Tensor, len(params))
	defer func() {
		for _, t := range mom {
			t.Close()
		}
	}()
	step := func() {
		s := torch.NewScope()
		defer s.Close()
		x := torch.Randn(torch.Float32, torch.CPU, 4, 3, 32, 32)
		y, err := m.Forward(x, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := y.LogSoftmax(1).Mean().Neg().Backward(); err != nil {
			t.Fatal(err)
		}
		if err := torch.SGDStep(params, mom, torch.SGD{LR: 0.1, Momentum: 0.9}); err != nil {
			t.Fatal(err)
		}
		torch.ZeroGrad(params)
	}
	step()
	n0, b0 := torch.Live()
	for i := 0; i < 20; i++ {
		step()
	}
	if n1, b1 := torch.Live(); n1 != n0 || b1 != b0 {
		t.Errorf("live %d tensors %d bytes after the first step, %d and %d after 20 more", n0, b0, n1, b1)
	}
}
