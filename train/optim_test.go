package train

import (
	"math"
	"testing"

	"weaksup/nets"
	"weaksup/torch"
	"weaksup/torch/torchtest"
)

// sgdReference is torch.optim.SGD's update in float64: d = g + wd·p;
// buf = d on the first step, then μ·buf + d; p -= lr·(d + μ·buf) with
// Nesterov, lr·buf without.
type sgdReference struct {
	p, buf        []float64
	lr, mu, wd    float64
	nesterov, has bool
}

func (r *sgdReference) step(g []float64) {
	for i := range r.p {
		d := g[i] + r.wd*r.p[i]
		if !r.has {
			r.buf[i] = d
		} else {
			r.buf[i] = r.mu*r.buf[i] + d
		}
		u := r.buf[i]
		if r.nesterov {
			u = d + r.mu*r.buf[i]
		}
		r.p[i] -= r.lr * u
	}
	r.has = true
}

// quadGrad is the gradient of Σ c_i p_i² / 2.
func quadGrad(p []float64, c []float64) []float64 {
	g := make([]float64, len(p))
	for i := range p {
		g[i] = c[i] * p[i]
	}
	return g
}

func TestOptimizerMatchesSGDFormula(t *testing.T) {
	torchtest.Need(t)
	tests := []struct {
		name        string
		cfg         SGDConfig
		biasDecayed bool
	}{
		{"momentum and decay", SGDConfig{Momentum: 0.9, WeightDecay: 1e-2}, true},
		{"nesterov", SGDConfig{Momentum: 0.9, WeightDecay: 1e-2, Nesterov: true}, true},
		{"no decay on 1-d parameters", SGDConfig{Momentum: 0.9, WeightDecay: 1e-2, NoDecayNorm: true}, false},
		// b is the head: w, the backbone, steps at a tenth of the rate.
		{"backbone at a tenth", SGDConfig{Momentum: 0.9, WeightDecay: 1e-2, BackboneLRScale: 0.1}, true},
	}
	w0 := []float64{0.5, -1.0, 2.0, 0.25} // a 2x2 "weight"
	b0 := []float64{1.0, -0.5}            // a "bias"
	cw := []float64{1, 2, 0.5, 3}
	cb := []float64{1.5, 0.7}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f32 := func(v []float64) []float32 {
				out := make([]float32, len(v))
				for i, x := range v {
					out[i] = float32(x)
				}
				return out
			}
			w := torch.FromFloat32(f32(w0), 2, 2)
			b := torch.FromFloat32(f32(b0), 2)
			defer w.Close()
			defer b.Close()
			for _, p := range []*torch.Tensor{w, b} {
				if err := p.SetRequiresGrad(true); err != nil {
					t.Fatal(err)
				}
			}
			opt, err := NewOptimizer([]nets.Param{{Name: "w", Tensor: w}, {Name: "b", Tensor: b}}, tt.cfg, b)
			if err != nil {
				t.Fatal(err)
			}
			defer opt.Close()
			const lr = 0.1
			rw := &sgdReference{p: append([]float64(nil), w0...), buf: make([]float64, 4), lr: lr, mu: tt.cfg.Momentum, wd: tt.cfg.WeightDecay, nesterov: tt.cfg.Nesterov}
			rb := &sgdReference{p: append([]float64(nil), b0...), buf: make([]float64, 2), lr: lr, mu: tt.cfg.Momentum, wd: tt.cfg.WeightDecay, nesterov: tt.cfg.Nesterov}
			if !tt.biasDecayed {
				rb.wd = 0
			}
			if tt.cfg.BackboneLRScale != 0 {
				rw.lr *= tt.cfg.BackboneLRScale
			}
			for step := 0; step < 4; step++ {
				s := torch.NewScope()
				cwT, cbT := torch.FromFloat32(f32(cw), 2, 2), torch.FromFloat32(f32(cb), 2)
				loss := w.Square().Mul(cwT).Sum().Add(b.Square().Mul(cbT).Sum()).MulScalar(0.5)
				if err := loss.Backward(); err != nil {
					t.Fatal(err)
				}
				if err := opt.Step(lr); err != nil {
					t.Fatal(err)
				}
				if err := opt.ZeroGrad(); err != nil {
					t.Fatal(err)
				}
				s.Close()
				rw.step(quadGrad(rw.p, cw))
				rb.step(quadGrad(rb.p, cb))
			}
			for _, c := range []struct {
				name string
				got  *torch.Tensor
				want []float64
			}{{"w", w, rw.p}, {"b", b, rb.p}} {
				got, err := c.got.Float32s()
				if err != nil {
					t.Fatal(err)
				}
				for i := range got {
					if math.Abs(float64(got[i])-c.want[i]) > 1e-5 {
						t.Errorf("%s[%d] = %v, want %v", c.name, i, got[i], c.want[i])
					}
				}
			}
			if got := len(opt.State()); got != 2 {
				t.Errorf("%d momentum buffers after steps, want 2", got)
			}
		})
	}
}

// TestOptimizerStateRoundTrip: an optimizer given another's state steps
// exactly as the original does.
func TestOptimizerStateRoundTrip(t *testing.T) {
	torchtest.Need(t)
	if err := torch.ManualSeed(3); err != nil {
		t.Fatal(err)
	}
	mk := func() (*torch.Tensor, *torch.Tensor) {
		s := torch.NewScope()
		defer s.Close()
		w := torch.Keep(torch.Randn(torch.Float32, torch.CPU, 3, 4).MulScalar(1))
		w.SetRequiresGrad(true)
		w2 := torch.Keep(w.Detach().Clone())
		w2.SetRequiresGrad(true)
		return w, w2
	}
	a, b := mk()
	defer a.Close()
	defer b.Close()
	cfg := SGDConfig{Momentum: 0.9, WeightDecay: 1e-4, Nesterov: true}
	oa, err := NewOptimizer([]nets.Param{{Name: "w", Tensor: a}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer oa.Close()
	ob, err := NewOptimizer([]nets.Param{{Name: "w", Tensor: b}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	step := func(o *Optimizer, p *torch.Tensor) {
		s := torch.NewScope()
		defer s.Close()
		if err := p.Pow(3).Sum().Backward(); err != nil {
			t.Fatal(err)
		}
		if err := o.Step(0.01); err != nil {
			t.Fatal(err)
		}
		o.ZeroGrad()
	}
	step(oa, a)
	step(ob, b)
	step(oa, a)
	// b's optimizer forgets its buffer and takes a's.
	ob.Close()
	if err := ob.SetState(oa.State()); err != nil {
		t.Fatal(err)
	}
	if err := torch.NoGrad(func() error { return b.CopyFrom(a) }); err != nil {
		t.Fatal(err)
	}
	step(oa, a)
	step(ob, b)
	ga, _ := a.Float32s()
	gb, _ := b.Float32s()
	for i := range ga {
		if ga[i] != gb[i] {
			t.Fatalf("element %d: %v after restored state, want %v", i, gb[i], ga[i])
		}
	}
	if err := ob.SetState([]nets.Param{{Name: "other", Tensor: a}}); err == nil {
		t.Error("state for an unknown parameter: no error")
	}
	if _, err := NewOptimizer(nil, cfg); err == nil {
		t.Error("no parameters: no error")
	}
	if _, err := NewOptimizer([]nets.Param{{Name: "w", Tensor: a}}, SGDConfig{Nesterov: true}); err == nil {
		t.Error("Nesterov without momentum: no error")
	}
}

// defaultSGD is the paper's optimizer: momentum 0.9, weight decay 1e-4.
var defaultSGD = SGDConfig{Momentum: 0.9, WeightDecay: 1e-4}
