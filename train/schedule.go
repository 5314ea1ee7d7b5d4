package train

import (
	"fmt"
	"math"
)

// Decay names, as --decay takes them.
const (
	DecayCosine   = "cosine"   // half a cosine from the peak down to MinLR
	DecayStep     = "step"     // multiply by Gamma every StepEvery steps
	DecayConstant = "constant" // stay at the peak
	// DecayMultiStep multiplies by Gamma at each of Milestones (absolute
	// steps): He et al.'s CIFAR schedule divides by 10 at 32k and 48k.
	DecayMultiStep = "multistep"
)

// ReferenceBatch is the batch size the base learning rate is quoted for:
// Goyal et al. ("Accurate, Large Minibatch SGD", 2017) scale the learning
// rate linearly, LR = base × batch / 256.
const ReferenceBatch = 256

// Schedule is the learning-rate schedule: a linear warm-up from near zero
// to the peak BaseLR × Batch / 256 over WarmupSteps, then a cosine or step
// decay until TotalSteps. It is a pure function of the step (LR), so a
// resumed run sets exactly the learning rates an uninterrupted one would.
type Schedule struct {
	BaseLR      float64 `json:"base_lr"`              // learning rate for a batch of 256 images
	Batch       int     `json:"batch"`                // images per optimizer step (batch × accumulation × world)
	WarmupSteps int     `json:"warmup_steps"`         // linear warm-up length
	TotalSteps  int     `json:"total_steps"`          // length of the run; cosine reaches MinLR here
	Decay       string  `json:"decay"`                // DecayCosine (default), DecayStep or DecayConstant
	StepEvery   int     `json:"step_every"`           // step decay: steps between reductions (after warm-up)
	Gamma       float64 `json:"gamma"`                // step decay: factor per reduction
	MinLR       float64 `json:"min_lr"`               // cosine floor (absolute)
	Milestones  []int   `json:"milestones,omitempty"` // multistep decay: the steps at which to multiply by Gamma
}

// Peak returns the learning rate at the end of the warm-up.
func (s Schedule) Peak() float64 { return s.BaseLR * float64(s.Batch) / ReferenceBatch }

// Validate reports a schedule that cannot be followed.
func (s Schedule) Validate() error {
	switch {
	case s.BaseLR <= 0 || math.IsNaN(s.BaseLR) || math.IsInf(s.BaseLR, 0):
		return fmt.Errorf("check schedule: base learning rate %v, want > 0", s.BaseLR)
	case s.Batch < 1:
		return fmt.Errorf("check schedule: batch %d, want ≥ 1", s.Batch)
	case s.TotalSteps < 1:
		return fmt.Errorf("check schedule: %d total steps, want ≥ 1", s.TotalSteps)
	case s.WarmupSteps < 0:
		return fmt.Errorf("check schedule: %d warm-up steps, want ≥ 0", s.WarmupSteps)
	case s.MinLR < 0:
		return fmt.Errorf("check schedule: min learning rate %v, want ≥ 0", s.MinLR)
	}
	switch s.Decay {
	case "", DecayCosine, DecayConstant:
	case DecayStep:
		if s.StepEvery < 1 {
			return fmt.Errorf("check schedule: step decay every %d steps, want ≥ 1", s.StepEvery)
		}
		if s.Gamma <= 0 || s.Gamma > 1 {
			return fmt.Errorf("check schedule: step decay factor %v, want in (0, 1]", s.Gamma)
		}
	case DecayMultiStep:
		for i, m := range s.Milestones {
			if m < 1 || (i > 0 && m <= s.Milestones[i-1]) {
				return fmt.Errorf("check schedule: milestones %v, want increasing steps ≥ 1", s.Milestones)
			}
		}
		if s.Gamma <= 0 || s.Gamma > 1 {
			return fmt.Errorf("check schedule: multistep decay factor %v, want in (0, 1]", s.Gamma)
		}
	default:
		return fmt.Errorf("check schedule: decay %q, want %s, %s, %s or %s", s.Decay, DecayCosine, DecayStep, DecayMultiStep, DecayConstant)
	}
	return nil
}

// LR returns the learning rate of step (0-based): Peak × (step+1) /
// WarmupSteps during the warm-up, then the decay. Steps past TotalSteps keep
// the final rate.
func (s Schedule) LR(step int) float64 {
	peak := s.Peak()
	if step < 0 {
		step = 0
	}
	if step < s.WarmupSteps {
		return peak * float64(step+1) / float64(s.WarmupSteps)
	}
	t := step - s.WarmupSteps
	switch s.Decay {
	case DecayConstant:
		return peak
	case DecayStep:
		return peak * math.Pow(s.Gamma, float64(t/s.StepEvery))
	case DecayMultiStep:
		passed := 0
		for _, m := range s.Milestones {
			if step >= m {
				passed++
			}
		}
		return peak * math.Pow(s.Gamma, float64(passed))
	}
	span := s.TotalSteps - s.WarmupSteps
	if span <= 0 {
		return peak
	}
	if t > span {
		t = span
	}
	floor := math.Min(s.MinLR, peak)
	return floor + (peak-floor)*0.5*(1+math.Cos(math.Pi*float64(t)/float64(span)))
}
