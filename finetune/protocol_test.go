package finetune

import (
	"slices"
	"strings"
	"testing"
)

func TestProtocolApply(t *testing.T) {
	p := Protocol{LinearLRs: []float64{1, 3}, FullLRs: []float64{0.3, 1}, Carve: 0.25, PretrainedHead: HeadProbe, PretrainedBackboneLRScale: 0.1}
	for _, tc := range []struct {
		mode, from string
		lrs        []float64
		head       string
		scale      float64
	}{
		{ModeLinear, "runs/pretrain", p.LinearLRs, "", 0},
		{ModeFull, "runs/pretrain", p.FullLRs, HeadProbe, 0.1},
		{ModeFull, FromNone, p.FullLRs, "", 0}, // nothing pretrained to be gentle with
	} {
		c := Config{Mode: tc.mode, From: tc.from}
		p.Apply(&c)
		if c.Search == nil || !slices.Equal(c.Search.LRs, tc.lrs) || c.Search.Carve != 0.25 || c.Head != tc.head || c.BackboneLRScale != tc.scale {
			t.Errorf("%s from %s: search %+v head %q scale %g; want %v, %q, %g", tc.mode, tc.from, c.Search, c.Head, c.BackboneLRScale, tc.lrs, tc.head, tc.scale)
		}
	}
	if s := p.String(); !strings.Contains(s, "[0.3 1]") || !strings.Contains(s, "25%") || !strings.Contains(s, "LP-FT") || !strings.Contains(s, "0.1 of the head's rate") {
		t.Errorf("Protocol.String() = %q", s)
	}
}
