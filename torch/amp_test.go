package torch

import (
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func dtypeOf(t *testing.T, x *Tensor) DType {
	t.Helper()
	d, err := x.DType()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAutocastPolicy(t *testing.T) {
	needLib(t)
	s := NewScope()
	defer s.Close()
	x := Randn(Float32, CPU, 4, 3, 8, 8).ToFormat(ChannelsLast)
	w := Randn(Float32, CPU, 8, 3, 3, 3).ToFormat(ChannelsLast)
	fc := Randn(Float32, CPU, 5, 8)
	for _, p := range []*Tensor{w, fc} {
		if err := p.SetRequiresGrad(true); err != nil {
			t.Fatal(err)
		}
	}
	bn := &BatchNorm{Weight: Ones(Float32, CPU, 8), Bias: Zeros(Float32, CPU, 8),
		RunningMean: Zeros(Float32, CPU, 8), RunningVar: Ones(Float32, CPU, 8)}
	target := FromFloat32([]float32{1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0.5, 0.5, 0, 0, 0, 0, 0, 1}, 4, 5)

	var conv, norm, logits, loss *Tensor
	err := Autocast(CPU, BFloat16, func() error {
		conv = Conv2d(x, w, nil, Conv2dOptions{Padding: [2]int64{1, 1}})
		norm = bn.Forward(conv, true).Relu()
		logits = Linear(AdaptiveAvgPool2d(norm, 1, 1).Flatten(1, -1), fc, nil)
		loss = SoftCrossEntropy(logits.ToDType(Float32), target)
		return loss.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		x    *Tensor
		want DType
	}{
		{"conv2d", conv, BFloat16},
		{"batch norm", norm, BFloat16},
		{"linear", logits, BFloat16},
		{"loss", loss, Float32},
		{"running mean", bn.RunningMean, Float32},
	} {
		if got := dtypeOf(t, c.x); got != c.want {
			t.Errorf("%s under bf16 autocast: %v, want %v", c.name, got, c.want)
		}
	}
	if !conv.IsChannelsLast() {
		t.Error("bf16 conv output lost the channels-last layout")
	}
	if err := loss.Backward(); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*Tensor{"conv weight": w, "fc weight": fc} {
		if got := dtypeOf(t, p.Grad()); got != Float32 {
			t.Errorf("%s gradient: %v, want float32 (fp32 master weights)", name, got)
		}
	}
	// Outside the region the same op runs in float32 again.
	if got := dtypeOf(t, Conv2d(x, w, nil, Conv2dOptions{})); got != Float32 {
		t.Errorf("conv2d after the autocast region: %v, want float32", got)
	}
}

// TestAutocastHoldsOnEveryThread calls into libtorch from many OS threads
// at once (each goroutine locked to its own): each must see the
// process-wide setting, and none may keep it once it is turned off.
func TestAutocastHoldsOnEveryThread(t *testing.T) {
	needLib(t)
	const threads = 12
	run := func(want DType) {
		t.Helper()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []string
		start := make(chan struct{})
		for i := 0; i < threads; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread() // a thread of its own: the others hold theirs
				defer runtime.UnlockOSThread()
				<-start
				got, err := autocastState(DeviceCPU)
				x := Randn(Float32, CPU, 1, 2, 4, 4)
				k := Randn(Float32, CPU, 2, 2, 1, 1)
				y := Conv2d(x, k, nil, Conv2dOptions{})
				d, derr := y.DType()
				x.Close()
				k.Close()
				y.Close()
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil || derr != nil:
					errs = append(errs, "error: "+errorString(err, derr))
				case got != want:
					errs = append(errs, "thread state "+got.String())
				case d != want:
					errs = append(errs, "conv2d in "+d.String())
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 {
			t.Errorf("want %v on every thread; %d of %d threads differ: %s", want, len(errs), threads, strings.Join(errs, "; "))
		}
	}
	// No scope is open here, so each goroutine closes its own tensors.
	if _, err := SetAutocast(DeviceCPU, BFloat16); err != nil {
		t.Fatal(err)
	}
	run(BFloat16)
	prev, err := SetAutocast(DeviceCPU, Float32)
	if err != nil {
		t.Fatal(err)
	}
	if prev != BFloat16 {
		t.Errorf("SetAutocast returned previous %v, want bfloat16", prev)
	}
	run(Float32)
	if got, _ := autocastState(DeviceCUDA); got != Float32 {
		t.Errorf("CUDA autocast is %v after touching only the CPU's", got)
	}
}

func errorString(errs ...error) string {
	var s []string
	for _, e := range errs {
		if e != nil {
			s = append(s, e.Error())
		}
	}
	return strings.Join(s, ", ")
}

// TestAutocastDropsWeightCasts: within a region libtorch casts a weight
// once and reuses the cast; a region after an in-place update of the
// weight must see the new values, on the same thread as before.
func TestAutocastDropsWeightCasts(t *testing.T) {
	needLib(t)
	runtime.LockOSThread() // the cast cache is per thread: stay on one
	defer runtime.UnlockOSThread()
	s := NewScope()
	defer s.Close()
	x := Ones(Float32, CPU, 1, 4)
	w := Ones(Float32, CPU, 1, 4)
	if err := w.SetRequiresGrad(true); err != nil { // only trainable leaves are cached
		t.Fatal(err)
	}
	forward := func() float64 {
		t.Helper()
		var v float64
		err := Autocast(CPU, BFloat16, func() error {
			y := Linear(x, w, nil)
			var err error
			v, err = y.ToDType(Float32).Item()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := forward(); got != 4 {
		t.Fatalf("first forward: %v, want 4", got)
	}
	if err := NoGrad(func() error { return w.Fill(2) }); err != nil {
		t.Fatal(err)
	}
	if got := forward(); got != 8 {
		t.Errorf("forward after the weight changed: %v, want 8 (a stale cast of the old weight gives 4)", got)
	}
}

func TestSetAutocastRejectsOtherDTypes(t *testing.T) {
	needLib(t)
	if _, err := SetAutocast(DeviceCPU, Int64); err == nil {
		t.Error("SetAutocast(int64) succeeded")
	}
	if got, _ := autocastState(DeviceCPU); got != Float32 {
		t.Errorf("autocast is %v after a rejected call", got)
	}
}

func TestUnscaleGrads(t *testing.T) {
	needLib(t)
	s := NewScope()
	defer s.Close()
	a := FromFloat32([]float32{1, 2, 3}, 3)
	b := FromFloat32([]float32{1, 1}, 2)
	none := Zeros(Float32, CPU, 2) // never gets a gradient
	for _, p := range []*Tensor{a, b, none} {
		if err := p.SetRequiresGrad(true); err != nil {
			t.Fatal(err)
		}
	}
	// Gradients: 8·a's ones and 8·b's ones, as a loss scaled by 8 gives.
	if err := a.Sum().Add(b.Sum()).MulScalar(8).Backward(); err != nil {
		t.Fatal(err)
	}
	params := []*Tensor{a, b, none}
	found, err := UnscaleGrads(params, 1.0/8)
	if err != nil {
		t.Fatal(err)
	}
	if found {
		t.Error("found inf in finite gradients")
	}
	for _, p := range []*Tensor{a, b} {
		g, _ := p.Grad().Float32s()
		for i, v := range g {
			if v != 1 {
				t.Errorf("unscaled gradient[%d] = %v, want 1", i, v)
			}
		}
	}
	if none.Grad() != nil {
		t.Error("a parameter without a gradient got one")
	}
	for _, bad := range []float64{math.Inf(1), math.NaN()} {
		g := b.Grad()
		if err := NoGrad(func() error { return g.Narrow(0, 1, 1).Fill(bad) }); err != nil {
			t.Fatal(err)
		}
		found, err := UnscaleGrads(params, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			t.Errorf("a gradient holding %v was not found", bad)
		}
		if err := NoGrad(func() error { return g.Fill(1) }); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBF16SupportedMatchesCPUFlags(t *testing.T) {
	needLib(t)
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatalf("read CPU flags: %v", err)
	}
	want := false
	for _, line := range strings.Split(string(info), "\n") {
		if strings.HasPrefix(line, "flags") {
			f := " " + strings.TrimSpace(line[strings.Index(line, ":")+1:]) + " "
			want = strings.Contains(f, " avx512_bf16 ") || strings.Contains(f, " amx_bf16 ")
			break
		}
	}
	got, err := BF16Supported(CPU)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("BF16Supported(cpu) = %v; /proc/cpuinfo says %v", got, want)
	}
	if _, err := BF16Supported(CUDA(0)); err == nil && !CUDAAvailable() {
		t.Error("BF16Supported(cuda:0) succeeded without a CUDA device")
	}
}
