package nets

import (
	"errors"
	"fmt"
	"sort"
)

// Arch is a residual network as a table of parameters, in torchvision's
// terms: stage i has Layers[i] blocks of Planes[i] planes. Bottleneck
// blocks output Expansion()·Planes[i] = 4·Planes[i] channels and their
// grouped 3x3 conv has int(planes·WidthPerGroup/64)·Groups channels in
// Groups groups; basic blocks (Basic, He et al.'s CIFAR nets) are two 3x3
// convs of Planes[i] channels and expand by 1.
type Arch struct {
	Name          string `json:"name"`
	Layers        []int  `json:"layers"`          // blocks per stage
	Planes        []int  `json:"planes"`          // bottleneck planes per stage
	Groups        int    `json:"groups"`          // cardinality C
	WidthPerGroup int    `json:"width_per_group"` // d
	// SmallStem selects a 3x3 stride-1 stem conv without max-pool, for 32–64
	// px inputs; otherwise the ImageNet stem (7x7 stride-2 conv, 3x3
	// stride-2 max-pool).
	SmallStem bool `json:"small_stem"`
	StemWidth int  `json:"stem_width"` // channels of the stem conv
	// Basic selects basic blocks: two 3x3 convs of Planes[i] channels
	// (Groups 1, WidthPerGroup 64), output = Planes[i].
	Basic bool `json:"basic,omitempty"`
	// Block is the block design the network's paper gives it (Basic for
	// ResNet-n, Plain for plain-n, PreAct for the pre-activation nets,
	// Bottleneck for ResNeXt); Options.Block's zero value takes it.
	Block Block `json:"-"`
}

// Expansion is the ratio of a block's output channels to its planes: 4 for
// bottlenecks, 1 for basic blocks.
func (a Arch) Expansion() int {
	if a.Basic {
		return 1
	}
	return 4
}

var archs = []Arch{
	{Name: "resnext50_32x4d", Layers: []int{3, 4, 6, 3}, Planes: []int{64, 128, 256, 512}, Groups: 32, WidthPerGroup: 4, StemWidth: 64},
	{Name: "resnext101_32x4d", Layers: []int{3, 4, 23, 3}, Planes: []int{64, 128, 256, 512}, Groups: 32, WidthPerGroup: 4, StemWidth: 64},
	{Name: "resnext101_32x8d", Layers: []int{3, 4, 23, 3}, Planes: []int{64, 128, 256, 512}, Groups: 32, WidthPerGroup: 8, StemWidth: 64},
	{Name: "resnext101_32x16d", Layers: []int{3, 4, 23, 3}, Planes: []int{64, 128, 256, 512}, Groups: 32, WidthPerGroup: 16, StemWidth: 64},
	{Name: "resnext101_32x32d", Layers: []int{3, 4, 23, 3}, Planes: []int{64, 128, 256, 512}, Groups: 32, WidthPerGroup: 32, StemWidth: 64},
	{Name: "resnext101_32x48d", Layers: []int{3, 4, 23, 3}, Planes: []int{64, 128, 256, 512}, Groups: 32, WidthPerGroup: 48, StemWidth: 64},
	// The CIFAR network of Xie et al. (2017): 3 stages of 3 blocks, 29 layers.
	{Name: "resnext29_8x64d", Layers: []int{3, 3, 3}, Planes: []int{64, 128, 256}, Groups: 8, WidthPerGroup: 64, SmallStem: true, StemWidth: 64},
	// ResNeXt-29 layout at a quarter of its width and 1/8 of its group
	// width: the small net for 32–64 px experiments and benchmarks.
	{Name: "resnext29_small", Layers: []int{3, 3, 3}, Planes: []int{32, 64, 128}, Groups: 8, WidthPerGroup: 8, SmallStem: true, StemWidth: 32},
	// One block per stage: for tests and the demo on 2 CPU cores.
	{Name: "resnext_tiny", Layers: []int{1, 1, 1}, Planes: []int{16, 32, 64}, Groups: 4, WidthPerGroup: 8, SmallStem: true, StemWidth: 16},
}

// ErrUnknownArch is wrapped by LookupArch for a name not in ArchNames.
var ErrUnknownArch = errors.New("unknown architecture")

// archAliases are the short names LookupArch accepts besides ArchNames.
var archAliases = map[string]string{
	"tiny":  "resnext_tiny",
	"small": "resnext29_small",
}

// LookupArch returns the named architecture: one of ArchNames, the short
// names "tiny" (resnext_tiny) and "small" (resnext29_small), or a CIFAR
// network of any depth its family allows (resnetN and plainN for N =
// 6n+2, preact_resnetN for N = 9n+2; see cifarArch).
func LookupArch(name string) (Arch, error) {
	if full, ok := archAliases[name]; ok {
		name = full
	}
	for _, a := range archs {
		if a.Name == name {
			return a, nil
		}
	}
	if a, ok, err := cifarArch(name); ok || err != nil {
		return a, err
	}
	return Arch{}, fmt.Errorf("look up arch %q (want one of %v, or resnetN/plainN with N = 6n+2, preact_resnetN with N = 9n+2): %w", name, ArchNames(), ErrUnknownArch)
}

// ArchNames lists the built-in architectures, sorted: the ResNeXt tables
// and the CIFAR networks of the papers' tables.
func ArchNames() []string {
	var out []string
	for _, a := range archs {
		out = append(out, a.Name)
	}
	out = append(out, cifarArchNames...)
	sort.Strings(out)
	return out
}

// width returns the channels of a stage's grouped conv (torchvision's
// int(planes * (base_width / 64.)) * groups).
func (a Arch) width(stage int) int { return a.Planes[stage] * a.WidthPerGroup / 64 * a.Groups }

// FeatureDim returns the channels of the pooled features (the fc input).
func (a Arch) FeatureDim() int { return a.Planes[len(a.Planes)-1] * a.Expansion() }

// Blocks is the number of residual blocks of the network.
func (a Arch) Blocks() int {
	n := 0
	for _, l := range a.Layers {
		n += l
	}
	return n
}

// depth is the number of weighted layers on the longest path, as the
// papers name their networks: the stem conv, every conv of every block's
// branch (projection shortcuts not counted) and the fc layer. ResNet-20 is
// 1 + 9·2 + 1; resnext50_32x4d 1 + 16·3 + 1.
func (a Arch) depth() int {
	convs := 3
	if a.Basic {
		convs = 2
	}
	return 1 + convs*a.Blocks() + 1
}

func (a Arch) validate() error {
	if len(a.Layers) == 0 || len(a.Layers) != len(a.Planes) {
		return fmt.Errorf("arch %q: %d stage block counts for %d plane counts", a.Name, len(a.Layers), len(a.Planes))
	}
	if a.Groups < 1 || a.WidthPerGroup < 1 || a.StemWidth < 1 {
		return fmt.Errorf("arch %q: groups, width per group and stem width must be positive", a.Name)
	}
	if a.Basic && (a.Groups != 1 || a.WidthPerGroup != 64) {
		return fmt.Errorf("arch %q: basic blocks have no groups (want groups 1, width per group 64)", a.Name)
	}
	for i := range a.Layers {
		if a.Layers[i] < 1 || a.width(i) < a.Groups {
			return fmt.Errorf("arch %q: stage %d has %d blocks and grouped width %d for %d groups", a.Name, i+1, a.Layers[i], a.width(i), a.Groups)
		}
	}
	return nil
}

// stage returns stage s of the table as makeStage builds it: the first
// stage keeps the stem's resolution, every later one halves it in its first
// block.
func (a Arch) stage(s int) stageSpec {
	stride := 2
	if s == 0 {
		stride = 1
	}
	return stageSpec{
		Name:   fmt.Sprintf("layer%d", s+1),
		Blocks: a.Layers[s],
		Width:  a.width(s),
		Out:    a.Planes[s] * a.Expansion(),
		Groups: a.Groups,
		Stride: stride,
	}
}
