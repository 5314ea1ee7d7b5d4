package train

import (
	"fmt"
	"slices"

	"weaksup/torch"
)

// AgreePrecision gives every rank of a data-parallel group rank 0's
// precision, so that auto, which times a probe step on each rank, cannot
// split the ranks between bf16 and fp32 on a loaded machine; a rank whose
// own choice differed says so in why. Without a group (nil, or one rank)
// it returns p and why as they are.
func AgreePrecision(g *torch.Group, p Precision, why string) (Precision, string, error) {
	if g == nil || g.World() < 2 {
		return p, why, nil
	}
	code := float64(slices.Index(Precisions, p.orFP32()))
	s := torch.NewScope()
	defer s.Close()
	t := float64s(code)
	if err := torch.NoGrad(func() error { return g.Broadcast([]*torch.Tensor{t}, 0, 1<<10) }); err != nil {
		return "", "", fmt.Errorf("agree on the precision: %w", err)
	}
	v, err := readFloat64s(t)
	if err != nil {
		return "", "", fmt.Errorf("agree on the precision: %w", err)
	}
	i := int(v[0])
	if i < 0 || i >= len(Precisions) {
		return "", "", fmt.Errorf("agree on the precision: rank 0 sent code %v", v[0])
	}
	if got := Precisions[i]; got != p.orFP32() {
		return got, fmt.Sprintf("rank 0's choice; this rank's own was %s (%s)", p.orFP32(), why), nil
	}
	return p, why, nil
}
