package nets

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"weaksup/torch"
	"weaksup/torch/torchtest"
)

// TestPublishedSizes checks the sizes the papers publish: He et al. 2016
// (Table 6: ResNet-20 0.27M, ResNet-56 0.85M, ResNet-110 1.7M), He et al.
// ECCV 2016 (Table 3: pre-act ResNet-164 1.7M, ResNet-1001 10.2M) and
// torchvision (resnext50_32x4d 25.0M). The papers count conv and fc
// weights (Summary.Weights): ResNet-1001 has 10.33M trainable parameters
// with its 0.15M batch-norm scales and shifts. Exact totals are from an
// independent count of each layer (conv k·k·in·out, BN 2·C, fc in·out+out).
func TestPublishedSizes(t *testing.T) {
	tests := []struct {
		arch      string
		classes   int
		published string // in millions, to the papers' precision
		params    int64  // trainable, BN included
		depth     int
	}{
		{"resnet20", 10, "0.27", 269722, 20},
		{"resnet56", 10, "0.85", 853018, 56},
		{"resnet110", 10, "1.7", 1727962, 110},
		{"preact_resnet164", 10, "1.7", 1703258, 164},
		{"preact_resnet1001", 10, "10.2", 10327706, 1001},
		{"resnext50_32x4d", 1000, "25.0", 25028904, 50},
	}
	for _, tc := range tests {
		t.Run(tc.arch, func(t *testing.T) {
			a, err := LookupArch(tc.arch)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Summarize(Options{Arch: a, NumClasses: tc.classes}, 32)
			if err != nil {
				t.Fatal(err)
			}
			digits := 0
			if _, frac, ok := strings.Cut(tc.published, "."); ok {
				digits = len(frac)
			}
			if got := fmt.Sprintf("%.*f", digits, float64(s.Weights)/1e6); got != tc.published {
				t.Errorf("weights %d = %sM, the paper says %sM", s.Weights, got, tc.published)
			}
			if s.Params != tc.params {
				t.Errorf("trainable parameters %d, want %d", s.Params, tc.params)
			}
			if s.Depth != tc.depth || a.depth() != tc.depth {
				t.Errorf("depth %d (arch says %d), want %d", s.Depth, a.depth(), tc.depth)
			}
		})
	}
}

// TestSummaryMatchesModel builds each network in libtorch and checks that
// Summarize, which creates no tensors, counts what NewResNeXt creates.
func TestSummaryMatchesModel(t *testing.T) {
	torchtest.Need(t)
	tests := []struct {
		arch string
		o    Options
	}{
		{"resnet20", Options{}},
		{"resnet20", Options{Shortcut: ShortcutB}},
		{"plain20", Options{}},
		{"resnet32", Options{Block: PreAct}},
		{"resnet20", Options{Block: SkipInit}},
		{"resnet20", Options{Block: NoNorm}},
		{"resnet20", Options{Block: PlainNoNorm, Init: Xavier}},
		{"preact_resnet164", Options{}},
		{"resnext_tiny", Options{}},
		{"resnext_tiny", Options{Block: SkipInit, Shortcut: ShortcutA}},
		{"resnext29_small", Options{Block: Plain}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%v/%v", tc.arch, tc.o.Block, tc.o.Shortcut), func(t *testing.T) {
			m := newModel(t, tc.arch, tc.o)
			s, err := Summarize(Options{Arch: m.opts.Arch, NumClasses: 10, Block: tc.o.Block, Shortcut: tc.o.Shortcut, Init: tc.o.Init}, 32)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.NumParameters(); got != s.Params {
				t.Errorf("model has %d parameters, summary says %d", got, s.Params)
			}
			if s.Block != m.opts.Block || s.Shortcut != m.opts.Shortcut {
				t.Errorf("summary of %v/%v, model is %v/%v", s.Block, s.Shortcut, m.opts.Block, m.opts.Shortcut)
			}
			var sum int64
			for _, p := range s.Parts {
				sum += p.Params
			}
			if sum != s.Params {
				t.Errorf("parts add up to %d parameters, total %d", sum, s.Params)
			}
			x := torch.Randn(torch.Float32, torch.CPU, 2, 3, 32, 32)
			defer x.Close()
			if err := torch.NoGrad(func() error {
				y, err := m.Forward(x, false)
				if err == nil {
					y.Close()
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestMultiplyAdds checks the multiply-adds against torchvision's
// published GFLOPS (which count multiply-adds) and the output shapes of
// the CIFAR stages.
func TestMultiplyAdds(t *testing.T) {
	for _, tc := range []struct {
		arch string
		want float64 // G
	}{{"resnext50_32x4d", 4.23}, {"resnext101_32x8d", 16.41}} {
		a, _ := LookupArch(tc.arch)
		s, err := Summarize(Options{Arch: a, NumClasses: 1000}, 224)
		if err != nil {
			t.Fatal(err)
		}
		if got := float64(s.MACs) / 1e9; math.Abs(got-tc.want) > 0.01*tc.want {
			t.Errorf("%s: %.3f G multiply-adds, torchvision says %.2f", tc.arch, got, tc.want)
		}
	}
	a, _ := LookupArch("resnet20")
	s, err := Summarize(Options{Arch: a, NumClasses: 10}, 32)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"stem": "[16 32 32]", "layer1": "[16 32 32]", "layer2": "[32 16 16]", "layer3": "[64 8 8]", "fc": "[10]"}
	if len(s.Parts) != len(want) {
		t.Errorf("parts %v, want %d", s.Parts, len(want))
	}
	for _, p := range s.Parts {
		if got := fmt.Sprint(p.Output); got != want[p.Name] {
			t.Errorf("%s: output %s, want %s", p.Name, got, want[p.Name])
		}
	}
	// Stem 432·1024, then per stage 2n convs at that stage's size, fc 640.
	var macs int64 = 16 * 27 * 1024
	macs += 6 * 16 * 16 * 9 * 1024
	macs += (32*16*9 + 5*32*32*9) * 256
	macs += (64*32*9 + 5*64*64*9) * 64
	macs += 640
	if s.MACs != macs {
		t.Errorf("resnet20: %d multiply-adds, want %d", s.MACs, macs)
	}
}

func TestLookupCIFARArch(t *testing.T) {
	for name, want := range map[string]string{
		"resnet8": "[1 1 1] basic=true basic", "plain14": "[2 2 2] basic=true plain",
		"resnet1202": "[200 200 200] basic=true basic", "preact_resnet11": "[1 1 1] basic=false preact",
	} {
		a, err := LookupArch(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := fmt.Sprintf("%v basic=%v %v", a.Layers, a.Basic, a.Block); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	for _, name := range []string{"resnet21", "plain2", "preact_resnet21", "resnet", "resnet-4"} {
		if _, err := LookupArch(name); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	for _, name := range cifarArchNames {
		if _, err := LookupArch(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestPlainHasNoShortcut checks that a plain net has no shortcut tensors
// and no add: with the last block's second BN zeroed, a residual block
// passes its input on, a plain block passes nothing.
func TestPlainHasNoShortcut(t *testing.T) {
	plain := newModel(t, "plain20", Options{Shortcut: ShortcutB})
	res := newModel(t, "resnet20", Options{Shortcut: ShortcutB})
	for _, p := range plain.Parameters() {
		if strings.Contains(p.Name, "downsample") {
			t.Errorf("plain20 has shortcut tensor %s", p.Name)
		}
	}
	if res.Param("layer2.0.downsample.0.weight") == nil {
		t.Errorf("resnet20 with option B has no projection")
	}
	x := torch.Randn(torch.Float32, torch.CPU, 2, 3, 32, 32)
	defer x.Close()
	for _, tc := range []struct {
		m        *ResNeXt
		wantZero bool
	}{{plain, true}, {res, false}} {
		s := torch.NewScope()
		err := torch.NoGrad(func() error {
			for _, n := range []string{"layer3.2.bn2.weight", "layer3.2.bn2.bias"} {
				if err := tc.m.Param(n).Zero(); err != nil {
					return err
				}
			}
			f, err := tc.m.Features(x, false)
			if err != nil {
				return err
			}
			v, err := f.Abs().Sum().Item()
			if err != nil {
				return err
			}
			if (v == 0) != tc.wantZero {
				t.Errorf("%s: |features| = %g with the last block's branch zeroed", tc.m.opts.Arch.Name, v)
			}
			return nil
		})
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestZeroPaddingShortcut checks option A: x[:, :, ::2, ::2] with zero
// channels appended, in both memory layouts, and no parameters.
func TestZeroPaddingShortcut(t *testing.T) {
	torchtest.Need(t)
	s := torch.NewScope()
	defer s.Close()
	data := make([]float32, 2*4*4)
	for i := range data {
		data[i] = float32(i + 1)
	}
	for _, cl := range []bool{false, true} {
		x := torch.FromFloat32(data, 1, 2, 4, 4)
		if cl {
			x = x.ToFormat(torch.ChannelsLast)
		}
		y := zeroPadding{stride: 2, in: 2, out: 4}.apply(x, true)
		if err := y.Err(); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(y.Shape()); got != "[1 4 2 2]" {
			t.Fatalf("shape %s", got)
		}
		got, err := y.Contiguous().Float32s()
		if err != nil {
			t.Fatal(err)
		}
		want := []float32{1, 3, 9, 11, 17, 19, 25, 27, 0, 0, 0, 0, 0, 0, 0, 0}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("channels last %v: got %v, want %v", cl, got, want)
		}
		if cl && !y.IsChannelsLast() {
			t.Errorf("channels-last input gives a contiguous output")
		}
	}
	m20a := newModel(t, "resnet20", Options{})
	for _, p := range m20a.Parameters() {
		if strings.Contains(p.Name, "downsample") {
			t.Errorf("option A has tensor %s", p.Name)
		}
	}
	if m20a.opts.Shortcut != ShortcutA || m20a.opts.Block != Basic {
		t.Errorf("resnet20 defaults to %v/%v, want A/basic", m20a.opts.Shortcut, m20a.opts.Block)
	}
}

// TestSkipInitAlpha checks SkipInit's alpha: 0, or 1/√d for d blocks;
// NoNorm has none, and no design without batch norm has a BN tensor.
func TestSkipInitAlpha(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want float64 // -1: no alpha
	}{
		{Options{Block: SkipInit}, 0},
		{Options{Block: SkipInit, Alpha: AlphaInvSqrtDepth}, 1 / math.Sqrt(9)},
		{Options{Block: NoNorm}, -1},
		{Options{Block: PlainNoNorm}, -1},
	} {
		m := newModel(t, "resnet20", tc.o)
		a := m.Param("layer2.1.alpha")
		switch {
		case tc.want < 0 && a != nil:
			t.Errorf("%v: has alpha", tc.o.Block)
		case tc.want >= 0 && a == nil:
			t.Errorf("%v: no alpha", tc.o.Block)
		case a != nil:
			v, err := a.Item()
			if err != nil || math.Abs(v-tc.want) > 1e-6 {
				t.Errorf("%v %v: alpha %v (%v), want %v", tc.o.Block, tc.o.Alpha, v, err, tc.want)
			}
		}
		for _, p := range m.Parameters() {
			if strings.Contains(p.Name, "bn") {
				t.Errorf("%v has %s", tc.o.Block, p.Name)
			}
		}
	}
}

func TestBlockShapeMismatch(t *testing.T) {
	a, _ := LookupArch("resnext_tiny")
	if _, err := Summarize(Options{Arch: a, NumClasses: 2, Block: Basic}, 32); err == nil {
		t.Errorf("basic blocks on a bottleneck arch: no error")
	}
	b, _ := LookupArch("resnet20")
	s, err := Summarize(Options{Arch: b, NumClasses: 2, Block: Bottleneck}, 32)
	if err != nil || s.Block != Basic {
		t.Errorf("bottleneck on resnet20: %v, %v; want the arch's basic blocks", s.Block, err)
	}
}
