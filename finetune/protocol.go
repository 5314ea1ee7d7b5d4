package finetune

import (
	"fmt"
	"strings"
)

// Protocol is how an experiment transfers every arm of a comparison the
// same way: each transfer's learning rate chosen by a Search among
// LinearLRs (a linear probe) or FullLRs (full fine-tuning), on Carve of
// each class of the target's training images; full fine-tuning of
// pretrained weights starting its head as PretrainedHead says (HeadNew or
// HeadProbe) with the backbone's rate scaled by PretrainedBackboneLRScale
// (0: not scaled). The demo, the label-noise and data-scale sweeps and
// the findings use it.
type Protocol struct {
	LinearLRs                 []float64 `json:"linear_lrs"`
	FullLRs                   []float64 `json:"full_lrs"`
	Carve                     float64   `json:"carve,omitempty"`
	PretrainedHead            string    `json:"pretrained_head,omitempty"`
	PretrainedBackboneLRScale float64   `json:"pretrained_backbone_lr_scale,omitempty"`
}

// DefaultProtocol is the search of --lr auto in both modes, without
// scaling the backbone.
func DefaultProtocol() Protocol {
	return Protocol{LinearLRs: DefaultLRs(ModeLinear), FullLRs: DefaultLRs(ModeFull), Carve: DefaultCarve}
}

// Apply gives cfg the protocol's search for its Mode and, for full
// fine-tuning of pretrained weights (From other than FromNone), its head
// and backbone scale.
func (p Protocol) Apply(cfg *Config) {
	s := &Search{LRs: p.LinearLRs, Carve: p.Carve}
	if cfg.Mode == ModeFull {
		s.LRs = p.FullLRs
		if cfg.From != FromNone {
			cfg.Head, cfg.BackboneLRScale = p.PretrainedHead, p.PretrainedBackboneLRScale
		}
	}
	cfg.Search = s
}

// String says the protocol in a sentence, for reports.
func (p Protocol) String() string {
	carve := p.Carve
	if carve == 0 {
		carve = DefaultCarve
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "every transfer chooses its learning rate the same way (`finetune --lr auto`): each candidate (linear probe %v, full fine-tuning %v, base rate per 256 images) trains on the target's training images less %.0f%% of each class, carved out by the seed, is scored on that part, and the best trains on all of them; only that final run is scored on the val split",
		p.LinearLRs, p.FullLRs, 100*carve)
	if p.PretrainedHead == HeadProbe {
		sb.WriteString(". Full fine-tuning of pretrained weights starts from the head of a linear probe on the frozen features (LP-FT)")
	}
	if sc := p.PretrainedBackboneLRScale; sc != 0 && sc != 1 {
		fmt.Fprintf(&sb, ". Full fine-tuning of pretrained weights trains the backbone at %g of the head's rate", sc)
	}
	return sb.String()
}
