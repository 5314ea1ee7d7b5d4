package resnets

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"weaksup/nets"
	"weaksup/torch"
)

// WidthConfig is ResNeXt's comparison at a fixed budget (Xie et al., CVPR
// 2017, Table 2 and 3): bottleneck nets of the same depth whose grouped
// 3x3 convs trade width for cardinality — C groups of d channels — with d
// chosen so every net has about the parameters of the C = 1 net of width
// BaseWidth. At ResNet-50's budget the paper's pairs are 1×64d, 2×40d,
// 4×24d, 8×14d and 32×4d, and more groups do better.
type WidthConfig struct {
	Workdir       string
	Data          *Data
	Cardinalities []int
	BaseWidth     int   // d of the C = 1 net
	Layers        []int // blocks per stage (3,3,3: ResNeXt-29)
	Planes        []int // bottleneck planes per stage (64,128,256)
	StemWidth     int
	Recipe        Recipe
	Device        torch.Device
	Log           io.Writer
}

// WidthNets returns one net per cardinality: ResNeXt with Layers and Planes,
// C groups of d channels, d the width per group that brings the network's
// parameters closest to the C = 1, d = BaseWidth net's.
func WidthNets(c WidthConfig, classes int) ([]Net, error) {
	depth := 2 + 3*sum(c.Layers)
	arch := func(groups, d int) nets.Arch {
		return nets.Arch{Name: fmt.Sprintf("resnext%d_%dx%dd", depth, groups, d), Layers: c.Layers, Planes: c.Planes,
			Groups: groups, WidthPerGroup: d, SmallStem: true, StemWidth: c.StemWidth}
	}
	params := func(a nets.Arch) (int64, error) {
		s, err := nets.Summarize(nets.Options{Arch: a, NumClasses: classes}, 32)
		return s.Params, err
	}
	budget, err := params(arch(1, c.BaseWidth))
	if err != nil {
		return nil, fmt.Errorf("width experiment: %w", err)
	}
	var list []Net
	for _, groups := range c.Cardinalities {
		best, bestDiff := 0, int64(-1)
		for d := 1; d <= c.BaseWidth; d++ {
			if exact := slices.ContainsFunc(c.Planes, func(p int) bool { return p*d%64 != 0 }); exact {
				continue // torchvision's int(planes·d/64) would round this width
			}
			p, err := params(arch(groups, d))
			if err != nil {
				continue // a width the groups do not divide
			}
			diff := p - budget
			if diff < 0 {
				diff = -diff
			}
			if bestDiff < 0 || diff < bestDiff {
				best, bestDiff = d, diff
			}
		}
		if best == 0 {
			return nil, fmt.Errorf("width experiment: no width per group fits cardinality %d", groups)
		}
		a := arch(groups, best)
		list = append(list, Net{Key: a.Name, Label: fmt.Sprintf("%d×%dd", groups, best), Group: "resnext", Arch: a})
	}
	return list, nil
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// RunWidth trains the nets and writes width.json, width.md and
// plots/width.png.
func RunWidth(ctx context.Context, c WidthConfig) (*Report, error) {
	list, err := WidthNets(c, c.Data.Classes)
	if err != nil {
		return nil, err
	}
	runs := &Runs{Name: "width", Workdir: c.Workdir, Data: c.Data, Recipe: c.Recipe, Nets: list, Device: c.Device, Log: c.Log}
	results, err := runs.Run(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{Name: "width", Data: c.Data.About, Recipe: c.Recipe, Classes: c.Data.Classes, Results: results}
	p, err := savePlot(c.Workdir, "width.png", errorChart("Cardinality at a fixed budget", results))
	if err != nil {
		return nil, err
	}
	rep.Plots = append(rep.Plots, p)
	var sb strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) }
	w("# Width: cardinality against width at a fixed budget\n\n")
	w("Xie et al. (CVPR 2017): at the same parameters and multiply-adds, more groups of narrower convolutions (ResNeXt) beat fewer wide ones.\n\n")
	w("Data: %s. Recipe: %s\n\n", rep.Data, recipeLine(c.Recipe, firstSteps(results)))
	w("| net (C×d) | grouped width C·d (stage 1) | params | mult-adds | final train error | final test error |\n|---|---|---|---|---|---|\n")
	for _, r := range results {
		s, _ := nets.Summarize(nets.Options{Arch: r.Net.Arch, NumClasses: c.Data.Classes}, 32)
		f := r.Final()
		w("| %s | %d | %s | %.1fM | %.1f%% | %.1f%% |\n", r.Net.Label, r.Net.Arch.Planes[0]*r.Net.Arch.WidthPerGroup/64*r.Net.Arch.Groups,
			nets.Millions(r.Params), float64(s.MACs)/1e6, 100*f.TrainError, 100*f.TestError)
	}
	w("\n%s\n![width](%s)\n", resultsTable(results, c.Data.Classes), p)
	rep.Markdown = sb.String()
	return rep, rep.write(c.Workdir)
}
