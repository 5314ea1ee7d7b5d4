package train

import (
	"fmt"

	"weaksup/nets"
	"weaksup/torch"
)

// SGDConfig is the optimizer of the paper's recipe: SGD with momentum 0.9
// and weight decay 1e-4 (Nesterov momentum as an option).
type SGDConfig struct {
	Momentum    float64 `json:"momentum"`
	WeightDecay float64 `json:"weight_decay"`
	Nesterov    bool    `json:"nesterov"`
	// NoDecayNorm exempts batch-norm scales and shifts, biases and other
	// one-dimensional parameters (SkipInit's alpha) from weight decay, as
	// Goyal et al. (2017) and most later recipes do.
	NoDecayNorm bool `json:"no_decay_norm"`
	// BackboneLRScale multiplies the learning rate of every parameter but
	// the head's (0 and 1: no scaling): fine-tuning a pretrained backbone
	// more gently than a new classifier.
	BackboneLRScale float64 `json:"backbone_lr_scale,omitempty"`
}

// Optimizer is SGD over a fixed list of named parameters, with one
// momentum buffer per parameter (torch.optim.SGD's state). It is not safe
// for concurrent use.
type Optimizer struct {
	cfg    SGDConfig
	groups []group // by weight decay and learning-rate scale
}

type group struct {
	decay    bool    // with weight decay
	lrScale  float64 // of the step's learning rate
	names    []string
	params   []*torch.Tensor
	momentum []*torch.Tensor // nil until the first step gives a parameter a gradient
}

// NewOptimizer returns SGD over params (trainable tensors with their
// state_dict names; buffers are skipped). head are the tensors of the
// classifier, whose learning rate cfg.BackboneLRScale does not scale.
func NewOptimizer(params []nets.Param, cfg SGDConfig, head ...*torch.Tensor) (*Optimizer, error) {
	if cfg.Momentum < 0 || cfg.Momentum >= 1 {
		return nil, fmt.Errorf("new optimizer: momentum %v, want in [0, 1)", cfg.Momentum)
	}
	if cfg.WeightDecay < 0 {
		return nil, fmt.Errorf("new optimizer: weight decay %v, want ≥ 0", cfg.WeightDecay)
	}
	if cfg.Nesterov && cfg.Momentum == 0 {
		return nil, fmt.Errorf("new optimizer: Nesterov momentum needs momentum > 0")
	}
	if cfg.BackboneLRScale < 0 {
		return nil, fmt.Errorf("new optimizer: backbone learning-rate scale %v, want ≥ 0", cfg.BackboneLRScale)
	}
	isHead := map[*torch.Tensor]bool{}
	for _, t := range head {
		isHead[t] = true
	}
	o := &Optimizer{cfg: cfg}
	seen := map[string]bool{}
	for _, p := range params {
		if p.Buffer {
			continue
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("new optimizer: parameter %q listed twice", p.Name)
		}
		seen[p.Name] = true
		decay := !cfg.NoDecayNorm || len(p.Tensor.Shape()) > 1
		scale := 1.0
		if cfg.BackboneLRScale != 0 && !isHead[p.Tensor] {
			scale = cfg.BackboneLRScale
		}
		g := o.group(decay, scale)
		g.names = append(g.names, p.Name)
		g.params = append(g.params, p.Tensor)
		g.momentum = append(g.momentum, nil)
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("new optimizer: no trainable parameters")
	}
	return o, nil
}

// group returns the group of parameters with that weight decay and scale,
// adding it the first time.
func (o *Optimizer) group(decay bool, scale float64) *group {
	for i := range o.groups {
		if o.groups[i].decay == decay && o.groups[i].lrScale == scale {
			return &o.groups[i]
		}
	}
	o.groups = append(o.groups, group{decay: decay, lrScale: scale})
	return &o.groups[len(o.groups)-1]
}

// Params returns the optimized tensors.
func (o *Optimizer) Params() []*torch.Tensor {
	var out []*torch.Tensor
	for _, g := range o.groups {
		out = append(out, g.params...)
	}
	return out
}

// Step updates every parameter that has a gradient, at learning rate lr,
// exactly as torch.optim.SGD.step does.
func (o *Optimizer) Step(lr float64) error {
	for i := range o.groups {
		g := &o.groups[i]
		wd := o.cfg.WeightDecay
		if !g.decay {
			wd = 0
		}
		err := torch.SGDStep(g.params, g.momentum, torch.SGD{LR: lr * g.lrScale, Momentum: o.cfg.Momentum, WeightDecay: wd, Nesterov: o.cfg.Nesterov})
		if err != nil {
			return fmt.Errorf("optimizer step: %w", err)
		}
	}
	return nil
}

// ZeroGrad drops the gradients of every parameter.
func (o *Optimizer) ZeroGrad() error {
	if err := torch.ZeroGrad(o.Params()); err != nil {
		return fmt.Errorf("zero gradients: %w", err)
	}
	return nil
}

// State returns the momentum buffers that exist, named after their
// parameters: what a checkpoint saves. The tensors belong to the optimizer.
func (o *Optimizer) State() []nets.Param {
	var out []nets.Param
	for _, g := range o.groups {
		for i, m := range g.momentum {
			if m != nil {
				out = append(out, nets.Param{Name: g.names[i], Tensor: m})
			}
		}
	}
	return out
}

// SetState replaces the momentum buffers with copies of state (as State
// returned it, on any device), moved to the device of each parameter.
// Names it does not know are an error; parameters state does not name get
// no buffer (their next step starts one, as a fresh optimizer would).
func (o *Optimizer) SetState(state []nets.Param) error {
	byName := map[string]*torch.Tensor{}
	for _, p := range state {
		byName[p.Name] = p.Tensor
	}
	used := 0
	for gi := range o.groups {
		g := &o.groups[gi]
		for i, name := range g.names {
			src, ok := byName[name]
			if !ok {
				continue
			}
			used++
			if got, want := fmt.Sprint(src.Shape()), fmt.Sprint(g.params[i].Shape()); got != want {
				return fmt.Errorf("set optimizer state: momentum of %q has shape %s, parameter %s", name, got, want)
			}
			dev, err := g.params[i].Device()
			if err != nil {
				return fmt.Errorf("set optimizer state: %q: %w", name, err)
			}
			buf := torch.Keep(src.To(dev).Clone())
			if err := buf.Err(); err != nil {
				return fmt.Errorf("set optimizer state: %q: %w", name, err)
			}
			if g.params[i].IsChannelsLast() {
				cl := torch.Keep(buf.ToFormat(torch.ChannelsLast))
				buf.Close()
				buf = cl
				if err := buf.Err(); err != nil {
					return fmt.Errorf("set optimizer state: %q: %w", name, err)
				}
			}
			g.momentum[i].Close()
			g.momentum[i] = buf
		}
	}
	if used != len(byName) {
		for name := range byName {
			if !o.has(name) {
				return fmt.Errorf("set optimizer state: momentum for unknown parameter %q", name)
			}
		}
	}
	return nil
}

func (o *Optimizer) has(name string) bool {
	for _, g := range o.groups {
		for _, n := range g.names {
			if n == name {
				return true
			}
		}
	}
	return false
}

// Close frees the momentum buffers. It is idempotent.
func (o *Optimizer) Close() {
	for gi := range o.groups {
		for i, m := range o.groups[gi].momentum {
			m.Close()
			o.groups[gi].momentum[i] = nil
		}
	}
}
