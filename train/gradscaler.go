package train

import (
	"fmt"
	"math"

	"weaksup/torch"
)

// LossScaling configures dynamic loss scaling with the arguments and
// defaults of torch.cuda.amp.GradScaler.
type LossScaling struct {
	InitScale      float64 `json:"init_scale"`      // 65536
	GrowthFactor   float64 `json:"growth_factor"`   // 2
	BackoffFactor  float64 `json:"backoff_factor"`  // 0.5
	GrowthInterval int     `json:"growth_interval"` // 2000
}

// DefaultLossScaling returns GradScaler's defaults.
func DefaultLossScaling() LossScaling {
	return LossScaling{InitScale: 65536, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 2000}
}

// GradScalerState is the part of a GradScaler that checkpoints hold.
type GradScalerState struct {
	Scale         float64 `json:"scale"`
	GrowthTracker int     `json:"growth_tracker"` // finite steps in a row since the scale last changed
	Skipped       int64   `json:"skipped"`        // optimizer steps skipped for inf or NaN gradients so far
}

// GradScaler is dynamic loss scaling as torch.cuda.amp.GradScaler does it:
// the loss is multiplied by Scale before backward, so that small float16
// gradients do not flush to zero; before the optimizer step the gradients
// are divided by it again and checked. A step whose gradients hold an inf
// or NaN is skipped and the scale backs off; after GrowthInterval finite
// steps in a row it grows. The scale is a float32 value, as PyTorch keeps
// it, and never grows to infinity.
type GradScaler struct {
	cfg   LossScaling
	state GradScalerState
}

// NewGradScaler returns a scaler at cfg.InitScale.
func NewGradScaler(cfg LossScaling) (*GradScaler, error) {
	switch {
	case !(cfg.InitScale > 0) || math.IsInf(float64(float32(cfg.InitScale)), 0):
		return nil, fmt.Errorf("new grad scaler: initial scale %v, want a positive float32", cfg.InitScale)
	case !(cfg.GrowthFactor > 1):
		return nil, fmt.Errorf("new grad scaler: growth factor %v, want > 1", cfg.GrowthFactor)
	case !(cfg.BackoffFactor > 0 && cfg.BackoffFactor < 1):
		return nil, fmt.Errorf("new grad scaler: backoff factor %v, want in (0, 1)", cfg.BackoffFactor)
	case cfg.GrowthInterval < 1:
		return nil, fmt.Errorf("new grad scaler: growth interval %d, want ≥ 1", cfg.GrowthInterval)
	}
	return &GradScaler{cfg: cfg, state: GradScalerState{Scale: float64(float32(cfg.InitScale))}}, nil
}

// Scale returns the current loss scale.
func (s *GradScaler) Scale() float64 { return s.state.Scale }

// State returns what a checkpoint saves.
func (s *GradScaler) State() GradScalerState { return s.state }

// SetState restores a saved state.
func (s *GradScaler) SetState(st GradScalerState) error {
	if !(st.Scale > 0) || math.IsInf(st.Scale, 0) || st.GrowthTracker < 0 || st.Skipped < 0 {
		return fmt.Errorf("restore grad scaler: invalid state %+v", st)
	}
	s.state = st
	return nil
}

// ScaleLoss returns loss × Scale, the tensor to call Backward on.
func (s *GradScaler) ScaleLoss(loss *torch.Tensor) *torch.Tensor {
	return loss.MulScalar(s.state.Scale)
}

// Unscale divides the gradients of params by Scale in place and reports
// whether any held an inf or NaN (GradScaler.unscale_).
func (s *GradScaler) Unscale(params []*torch.Tensor) (foundInf bool, err error) {
	// PyTorch's inverse: computed in double, applied as float32.
	inv := float64(float32(1 / s.state.Scale))
	found, err := torch.UnscaleGrads(params, inv)
	if err != nil {
		return false, fmt.Errorf("unscale gradients: %w", err)
	}
	return found, nil
}

// Update adjusts the scale after a step whose gradients were (foundInf) or
// were not finite, as torch._amp_update_scale_ does.
func (s *GradScaler) Update(foundInf bool) {
	st := &s.state
	if foundInf {
		st.Scale = float64(float32(st.Scale) * float32(s.cfg.BackoffFactor))
		st.GrowthTracker = 0
		st.Skipped++
		return
	}
	st.GrowthTracker++
	if st.GrowthTracker == s.cfg.GrowthInterval {
		if next := float32(st.Scale) * float32(s.cfg.GrowthFactor); !math.IsInf(float64(next), 0) {
			st.Scale = float64(next)
		}
		st.GrowthTracker = 0
	}
}

// Step unscales the gradients of params and, when they are finite, calls
// step; then it updates the scale. It reports whether the step was skipped.
func (s *GradScaler) Step(params []*torch.Tensor, step func() error) (skipped bool, err error) {
	found, err := s.Unscale(params)
	if err != nil {
		return false, err
	}
	if !found {
		if err := step(); err != nil {
			return false, err
		}
	}
	s.Update(found)
	return found, nil
}
