package train

import (
	"math"
	"testing"

	"weaksup/torch"
	"weaksup/torch/torchtest"
)

func TestGradScalerUpdate(t *testing.T) {
	s, err := NewGradScaler(LossScaling{InitScale: 1024, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 3})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		foundInf    bool
		wantScale   float64
		wantTracker int
		wantSkipped int64
	}{
		{false, 1024, 1, 0},
		{false, 1024, 2, 0},
		{true, 512, 0, 1}, // an overflow resets the run of good steps
		{false, 512, 1, 1},
		{false, 512, 2, 1},
		{false, 1024, 0, 1}, // the third good step in a row grows the scale
		{true, 512, 0, 2},
		{true, 256, 0, 3},
	}
	for i, st := range steps {
		s.Update(st.foundInf)
		got := s.State()
		if got.Scale != st.wantScale || got.GrowthTracker != st.wantTracker || got.Skipped != st.wantSkipped {
			t.Errorf("after update %d (inf %v): %+v, want scale %v tracker %d skipped %d",
				i+1, st.foundInf, got, st.wantScale, st.wantTracker, st.wantSkipped)
		}
	}
}

func TestGradScalerNeverGrowsToInfinity(t *testing.T) {
	top := math.Ldexp(1, 127) // the largest power of two a float32 holds
	s, err := NewGradScaler(LossScaling{InitScale: top, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 1})
	if err != nil {
		t.Fatal(err)
	}
	s.Update(false)
	if got := s.Scale(); got != top {
		t.Errorf("scale grew from 2^127 to %v", got)
	}
	if got := s.State().GrowthTracker; got != 0 {
		t.Errorf("growth tracker %d after a refused growth, want 0 (as PyTorch resets it)", got)
	}
}

func TestGradScalerRejectsBadConfig(t *testing.T) {
	for _, c := range []LossScaling{
		{InitScale: 0, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 1},
		{InitScale: 1e39, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 1}, // not a float32
		{InitScale: 1, GrowthFactor: 1, BackoffFactor: 0.5, GrowthInterval: 1},
		{InitScale: 1, GrowthFactor: 2, BackoffFactor: 1, GrowthInterval: 1},
		{InitScale: 1, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 0},
	} {
		if _, err := NewGradScaler(c); err == nil {
			t.Errorf("NewGradScaler(%+v) succeeded", c)
		}
	}
	s, _ := NewGradScaler(DefaultLossScaling())
	for _, st := range []GradScalerState{{Scale: 0}, {Scale: math.Inf(1)}, {Scale: 1, GrowthTracker: -1}} {
		if err := s.SetState(st); err == nil {
			t.Errorf("SetState(%+v) succeeded", st)
		}
	}
}

// TestGradScalerStepSkipsOnInjectedInf puts inf and NaN into real
// gradients of CPU tensors: the step must not run, the gradients stay as
// they were, scaled down, and the scale backs off.
func TestGradScalerStepSkipsOnInjectedInf(t *testing.T) {
	torchtest.Need(t)
	sc := torch.NewScope()
	defer sc.Close()
	w := torch.FromFloat32([]float32{1, -2, 3, 0.5}, 4)
	if err := w.SetRequiresGrad(true); err != nil {
		t.Fatal(err)
	}
	s, err := NewGradScaler(LossScaling{InitScale: 8, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 100})
	if err != nil {
		t.Fatal(err)
	}
	backward := func() {
		t.Helper()
		if err := torch.ZeroGrad([]*torch.Tensor{w}); err != nil {
			t.Fatal(err)
		}
		// loss = Σ w², so the gradient is 2w, and 2w·scale after scaling.
		if err := s.ScaleLoss(w.Square().Sum()).Backward(); err != nil {
			t.Fatal(err)
		}
	}
	steps := 0
	step := func() error { steps++; return nil }

	backward()
	skipped, err := s.Step([]*torch.Tensor{w}, step)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := w.Grad().Float32s()
	if skipped || steps != 1 || g[1] != -4 {
		t.Errorf("finite gradients: skipped %v, steps %d, unscaled gradient %v; want a step and 2w = [2 -4 6 1]", skipped, steps, g)
	}

	for _, bad := range []float64{math.Inf(-1), math.NaN()} {
		backward()
		if err := torch.NoGrad(func() error { return w.Grad().Narrow(0, 2, 1).Fill(bad) }); err != nil {
			t.Fatal(err)
		}
		before := s.Scale()
		skipped, err := s.Step([]*torch.Tensor{w}, step)
		if err != nil {
			t.Fatal(err)
		}
		if !skipped || steps != 1 {
			t.Errorf("gradient holding %v: skipped %v, steps %d; want the step skipped", bad, skipped, steps)
		}
		if s.Scale() != before/2 {
			t.Errorf("scale %v after an overflow from %v, want %v", s.Scale(), before, before/2)
		}
	}
	if got := s.State().Skipped; got != 2 {
		t.Errorf("skipped %d steps, want 2", got)
	}
}
