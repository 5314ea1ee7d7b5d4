package train

import (
	"math"
	"testing"
)

func TestSchedulePeakScalesLinearlyWithBatch(t *testing.T) {
	tests := []struct {
		base  float64
		batch int
		want  float64
	}{
		{0.1, 256, 0.1},
		{0.1, 512, 0.2},
		{0.1, 64, 0.025},
		{0.4, 8192, 12.8},
	}
	for _, tt := range tests {
		s := Schedule{BaseLR: tt.base, Batch: tt.batch}
		if got := s.Peak(); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Peak(base %v, batch %d) = %v, want %v", tt.base, tt.batch, got, tt.want)
		}
	}
}

func TestScheduleWarmupIsLinear(t *testing.T) {
	s := Schedule{BaseLR: 0.1, Batch: 512, WarmupSteps: 10, TotalSteps: 100, Decay: DecayCosine}
	peak := s.Peak()
	for step := 0; step < 10; step++ {
		if got, want := s.LR(step), peak*float64(step+1)/10; math.Abs(got-want) > 1e-12 {
			t.Errorf("LR(%d) = %v, want %v", step, got, want)
		}
	}
	if got := s.LR(10); math.Abs(got-peak) > 1e-12 {
		t.Errorf("LR(10) right after warm-up = %v, want the peak %v", got, peak)
	}
}

func TestScheduleCosine(t *testing.T) {
	s := Schedule{BaseLR: 0.1, Batch: 256, WarmupSteps: 20, TotalSteps: 120, Decay: DecayCosine, MinLR: 0.001}
	tests := []struct {
		step int
		want float64
	}{
		{20, 0.1},                                // start of the decay
		{70, (0.1 + 0.001) / 2},                  // half way: cos(π/2) = 0
		{45, 0.001 + 0.099*0.5*(1+math.Sqrt2/2)}, // a quarter: cos(π/4)
		{120, 0.001},                             // end
		{500, 0.001},                             // past the end
	}
	for _, tt := range tests {
		if got := s.LR(tt.step); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("LR(%d) = %v, want %v", tt.step, got, tt.want)
		}
	}
	for step := 21; step <= 120; step++ {
		if s.LR(step) > s.LR(step-1) {
			t.Fatalf("LR rises from step %d to %d: %v → %v", step-1, step, s.LR(step-1), s.LR(step))
		}
	}
}

func TestScheduleStepDecay(t *testing.T) {
	// The paper's shape: halve at equally spaced steps after the warm-up.
	s := Schedule{BaseLR: 0.1, Batch: 256, WarmupSteps: 5, TotalSteps: 100, Decay: DecayStep, StepEvery: 30, Gamma: 0.5}
	tests := []struct {
		step int
		want float64
	}{
		{5, 0.1}, {34, 0.1}, {35, 0.05}, {64, 0.05}, {65, 0.025}, {95, 0.0125},
	}
	for _, tt := range tests {
		if got := s.LR(tt.step); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("LR(%d) = %v, want %v", tt.step, got, tt.want)
		}
	}
	c := Schedule{BaseLR: 0.1, Batch: 256, TotalSteps: 10, Decay: DecayConstant}
	for step := 0; step < 12; step++ {
		if got := c.LR(step); got != 0.1 {
			t.Errorf("constant LR(%d) = %v, want 0.1", step, got)
		}
	}
}

// TestScheduleMultiStep is He et al.'s CIFAR schedule: 0.1 at batch 128,
// divided by 10 at 32k and 48k iterations.
func TestScheduleMultiStep(t *testing.T) {
	s := Schedule{BaseLR: 0.2, Batch: 128, TotalSteps: 64000, Decay: DecayMultiStep, Milestones: []int{32000, 48000}, Gamma: 0.1}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		step int
		want float64
	}{{0, 0.1}, {31999, 0.1}, {32000, 0.01}, {47999, 0.01}, {48000, 0.001}, {63999, 0.001}} {
		if got := s.LR(tt.step); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("LR(%d) = %v, want %v", tt.step, got, tt.want)
		}
	}
}

func TestScheduleValidate(t *testing.T) {
	good := Schedule{BaseLR: 0.1, Batch: 64, TotalSteps: 10, Decay: DecayCosine}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid schedule: %v", err)
	}
	tests := []struct {
		name string
		edit func(*Schedule)
	}{
		{"zero lr", func(s *Schedule) { s.BaseLR = 0 }},
		{"nan lr", func(s *Schedule) { s.BaseLR = math.NaN() }},
		{"zero batch", func(s *Schedule) { s.Batch = 0 }},
		{"no steps", func(s *Schedule) { s.TotalSteps = 0 }},
		{"negative warm-up", func(s *Schedule) { s.WarmupSteps = -1 }},
		{"unknown decay", func(s *Schedule) { s.Decay = "linear" }},
		{"step without interval", func(s *Schedule) { s.Decay = DecayStep; s.Gamma = 0.5 }},
		{"step with gamma 2", func(s *Schedule) { s.Decay = DecayStep; s.StepEvery = 3; s.Gamma = 2 }},
		{"milestones out of order", func(s *Schedule) { s.Decay = DecayMultiStep; s.Gamma = 0.1; s.Milestones = []int{5, 3} }},
		{"multistep without gamma", func(s *Schedule) { s.Decay = DecayMultiStep; s.Milestones = []int{5} }},
	}
	for _, tt := range tests {
		s := good
		tt.edit(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}
