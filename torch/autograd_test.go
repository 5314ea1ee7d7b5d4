package torch

import (
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

func TestBackwardGivesAnalyticGradient(t *testing.T) {
	needLib(t)
	x := FromFloat32([]float32{1, -2, 3}, 3)
	defer x.Close()
	if err := x.SetRequiresGrad(true); err != nil {
		t.Fatal(err)
	}
	s := NewScope()
	// loss = sum(x^2 * 3) + sum(relu(x)) → grad = 6x + [x>0]
	loss := x.Square().MulScalar(3).Sum().Add(x.Relu().Sum())
	if err := loss.Backward(); err != nil {
		t.Fatal(err)
	}
	g, err := x.Grad().Float32s()
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{7, -12, 19}
	if _, ok := closeEnough(g, want, 1e-6, 0); !ok {
		t.Errorf("grad: got %v, want %v", g, want)
	}
	// A second backward accumulates.
	if err := x.Sum().Backward(); err != nil {
		t.Fatal(err)
	}
	g2, _ := x.Grad().Float32s()
	if _, ok := closeEnough(g2, []float32{8, -11, 20}, 1e-6, 0); !ok {
		t.Errorf("accumulated grad: got %v", g2)
	}
	s.Close()
	if err := ZeroGrad([]*Tensor{x}); err != nil {
		t.Fatal(err)
	}
	if g := x.Grad(); g != nil {
		t.Errorf("grad after ZeroGrad: got %v, want nil", g)
	}
}

func TestNoGradRecordsNothing(t *testing.T) {
	needLib(t)
	s := NewScope()
	defer s.Close()
	x := Ones(Float32, CPU, 2)
	if err := x.SetRequiresGrad(true); err != nil {
		t.Fatal(err)
	}
	var y *Tensor
	if err := NoGrad(func() error {
		y = x.MulScalar(2)
		return x.AddInPlace(y, 1) // in place on a leaf is allowed only here
	}); err != nil {
		t.Fatal(err)
	}
	if y.RequiresGrad() {
		t.Errorf("op under NoGrad requires grad")
	}
	if !x.MulScalar(2).RequiresGrad() {
		t.Errorf("grad mode not restored after NoGrad")
	}
	if err := x.AddInPlace(y, 1); err == nil {
		t.Errorf("in-place update of a leaf with grad on: got no error")
	}
	v, _ := x.Float32s()
	if v[0] != 3 {
		t.Errorf("x after in-place add: got %v, want 3", v[0])
	}
}

// sgdReference is torch.optim.SGD's single-tensor update, in float64.
func sgdReference(p, g, buf []float64, first bool, o SGD) {
	for i := range p {
		d := g[i] + o.WeightDecay*p[i]
		if o.Momentum != 0 {
			if first {
				buf[i] = d
			} else {
				buf[i] = o.Momentum*buf[i] + (1-o.Dampening)*d
			}
			if o.Nesterov {
				d += o.Momentum * buf[i]
			} else {
				d = buf[i]
			}
		}
		p[i] -= o.LR * d
	}
}

func TestSGDStepMatchesTorchOptim(t *testing.T) {
	needLib(t)
	tests := []struct {
		name string
		o    SGD
	}{
		{"plain", SGD{LR: 0.1}},
		{"momentum wd", SGD{LR: 0.05, Momentum: 0.9, WeightDecay: 1e-2}},
		{"nesterov", SGD{LR: 0.05, Momentum: 0.9, WeightDecay: 1e-4, Nesterov: true}},
		{"dampening", SGD{LR: 0.1, Momentum: 0.5, Dampening: 0.3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			init := []float32{1, -0.5, 2}
			p := FromFloat32(init, 3)
			defer p.Close()
			p.SetRequiresGrad(true)
			ref := []float64{1, -0.5, 2}
			buf := make([]float64, 3)
			mom := []*Tensor{nil}
			defer func() { mom[0].Close() }()
			for step := 0; step < 3; step++ {
				s := NewScope()
				coef := FromFloat32([]float32{1, 2, -3}, 3)
				// loss = Σ coef·p² → grad = 2·coef·p
				if err := p.Square().Mul(coef).Sum().Backward(); err != nil {
					t.Fatal(err)
				}
				g := make([]float64, 3)
				for i := range g {
					g[i] = 2 * []float64{1, 2, -3}[i] * ref[i]
				}
				sgdReference(ref, g, buf, step == 0, tc.o)
				if err := SGDStep([]*Tensor{p}, mom, tc.o); err != nil {
					t.Fatal(err)
				}
				ZeroGrad([]*Tensor{p})
				s.Close()
			}
			got, _ := p.Float32s()
			for i := range got {
				if math.Abs(float64(got[i])-ref[i]) > 1e-5*math.Max(1, math.Abs(ref[i])) {
					t.Errorf("p[%d]: got %v, want %v", i, got[i], ref[i])
				}
			}
			if (mom[0] != nil) != (tc.o.Momentum != 0) {
				t.Errorf("momentum buffer: got %v for momentum %v", mom[0], tc.o.Momentum)
			}
		})
	}
	s := NewScope()
	defer s.Close()
	if err := SGDStep([]*Tensor{Ones(Float32, CPU, 1)}, nil, SGD{}); err == nil {
		t.Errorf("SGDStep with mismatched buffers: got no error")
	}
}

func TestScopeFreesAndKeeps(t *testing.T) {
	needLib(t)
	n0, b0 := Live()
	s := NewScope()
	a := Ones(Float32, CPU, 10)
	b := a.MulScalar(2)
	inner := NewScope()
	c := b.Add(a)
	kept := Keep(a.Add(c))
	if inner.Len() != 1 {
		t.Errorf("inner scope holds %d tensors, want 1", inner.Len())
	}
	inner.Close()
	if c.Err() == nil {
		t.Errorf("tensor of a closed scope is still valid")
	}
	if b.Err() != nil {
		t.Errorf("outer tensor freed by the inner scope: %v", b.Err())
	}
	s.Close()
	s.Close()
	if kept.Err() != nil {
		t.Fatalf("kept tensor freed: %v", kept.Err())
	}
	v, _ := kept.Float32s()
	if v[0] != 4 {
		t.Errorf("kept value: got %v, want 4", v[0])
	}
	if n, _ := Live(); n != n0+1 {
		t.Errorf("live tensors: got %d, want %d", n, n0+1)
	}
	kept.Close()
	if n, b := Live(); n != n0 || b != b0 {
		t.Errorf("live after closing all: got %d tensors %d bytes, want %d, %d", n, b, n0, b0)
	}
}

func rssKiB(t testing.TB) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// TestTrainingStepsDoNotLeak runs 1,000 forward/backward/SGD steps of a
// small conv net and checks that live tensors, their bytes, and the
// process's resident memory stay flat.
func TestTrainingStepsDoNotLeak(t *testing.T) {
	needLib(t)
	if err := ManualSeed(7); err != nil {
		t.Fatal(err)
	}
	init := NewScope()
	w1 := Keep(Randn(Float32, CPU, 8, 3, 3, 3).MulScalar(0.2))
	w2 := Keep(Randn(Float32, CPU, 4, 8))
	init.Close()
	params := []*Tensor{w1, w2}
	bn := BatchNorm{Weight: Ones(Float32, CPU, 8), Bias: Zeros(Float32, CPU, 8),
		RunningMean: Zeros(Float32, CPU, 8), RunningVar: Ones(Float32, CPU, 8), NumBatchesTracked: Zeros(Int64, CPU)}
	params = append(params, bn.Weight, bn.Bias)
	all := append([]*Tensor{bn.RunningMean, bn.RunningVar, bn.NumBatchesTracked}, params...)
	for _, p := range params {
		p.SetRequiresGrad(true)
	}
	mom := make([]*Tensor, len(params))
	defer func() {
		for _, t := range append(all, mom...) {
			t.Close()
		}
	}()
	step := func() float64 {
		s := NewScope()
		defer s.Close()
		x := Randn(Float32, CPU, 4, 3, 8, 8)
		target := Ones(Float32, CPU, 4, 4).MulScalar(0.25)
		h := Conv2d(x, w1, nil, Conv2dOptions{Padding: [2]int64{1, 1}})
		h = bn.Forward(h, true).Relu()
		h = MaxPool2d(h, [2]int64{2, 2}, [2]int64{2, 2}, [2]int64{})
		h = AdaptiveAvgPool2d(h, 1, 1).Flatten(1, -1)
		loss := SoftCrossEntropy(Linear(h, w2, nil), target)
		if err := loss.Backward(); err != nil {
			t.Fatal(err)
		}
		if err := SGDStep(params, mom, SGD{LR: 0.01, Momentum: 0.9, WeightDecay: 1e-4}); err != nil {
			t.Fatal(err)
		}
		ZeroGrad(params)
		v, err := loss.Item()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for i := 0; i < 50; i++ { // warm up allocator caches
		step()
	}
	n0, b0 := Live()
	debug.FreeOSMemory()
	rss0 := rssKiB(t)
	for i := 0; i < 1000; i++ {
		if v := step(); math.IsNaN(v) {
			t.Fatalf("step %d: NaN loss", i)
		}
	}
	n1, b1 := Live()
	debug.FreeOSMemory()
	rss1 := rssKiB(t)
	if n1 != n0 || b1 != b0 {
		t.Errorf("live tensors grew over 1000 steps: %d→%d tensors, %d→%d bytes", n0, n1, b0, b1)
	}
	// 1000 leaked activations would be several MiB; allow allocator noise.
	if rss1-rss0 > 4096 {
		t.Errorf("RSS grew by %d KiB over 1000 steps (%d→%d)", rss1-rss0, rss0, rss1)
	}
	t.Logf("live %d tensors %d bytes; RSS %d→%d KiB", n1, b1, rss0, rss1)
}

func TestReluInPlaceKeepsGradients(t *testing.T) {
	needLib(t)
	s := NewScope()
	defer s.Close()
	x := FromFloat32([]float32{-1, 2, -3, 4}, 4)
	if err := x.SetRequiresGrad(true); err != nil {
		t.Fatal(err)
	}
	// y = relu_(2x) in place on the product; grad = 2·[x>0].
	y := x.MulScalar(2)
	if got := y.ReluInPlace(); got != y {
		t.Fatalf("ReluInPlace returned another tensor")
	}
	v, _ := y.Float32s()
	if want := []float32{0, 4, 0, 8}; v[0] != want[0] || v[1] != want[1] || v[2] != want[2] || v[3] != want[3] {
		t.Errorf("relu_: got %v, want %v", v, want)
	}
	if err := y.Sum().Backward(); err != nil {
		t.Fatal(err)
	}
	g, _ := x.Grad().Float32s()
	if want := []float32{0, 2, 0, 2}; g[0] != want[0] || g[1] != want[1] || g[2] != want[2] || g[3] != want[3] {
		t.Errorf("grad: got %v, want %v", g, want)
	}
	// On a leaf that requires grad, libtorch refuses, and the error chains.
	if err := x.ReluInPlace().Sum().Err(); err == nil {
		t.Errorf("relu_ on a leaf requiring grad: got no error")
	}
	want := &Error{Op: "mine", Msg: "stop"}
	if err := Failed(want).Relu().Err(); err != want {
		t.Errorf("Failed: got %v, want %v", err, want)
	}
}
