package resnets

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"weaksup/nets"
	"weaksup/torch"
)

// DepthConfig is the degradation experiment of He et al. ("Deep Residual
// Learning for Image Recognition", CVPR 2016, §4.2 and Fig. 6): plain-n
// and ResNet-n of several depths trained with one recipe on CIFAR. Plain
// nets get worse with depth — plain-56 has a higher training error than
// plain-20 — while ResNets get better.
type DepthConfig struct {
	Workdir string
	Data    *Data
	Depths  []int // 6n+2
	// Families lists "plain" and/or "resnet".
	Families []string
	Shortcut string // ResNet shortcut: "auto" (A), "A" or "B"
	Recipe   Recipe
	Device   torch.Device
	Log      io.Writer
}

// DepthNets returns the nets of the experiment: for each family, one net
// per depth.
func DepthNets(families []string, depths []int, shortcut string) ([]Net, error) {
	if shortcut != "" {
		if _, err := nets.ParseShortcut(shortcut); err != nil {
			return nil, fmt.Errorf("depth experiment: %w", err)
		}
	}
	var list []Net
	for _, fam := range families {
		for _, d := range depths {
			var a nets.Arch
			var err error
			switch fam {
			case "plain":
				a, err = nets.CIFARPlain(d)
			case "resnet":
				a, err = nets.CIFARResNet(d)
			default:
				return nil, fmt.Errorf("depth experiment: family %q, want plain or resnet", fam)
			}
			if err != nil {
				return nil, err
			}
			list = append(list, Net{Key: a.Name, Label: fmt.Sprintf("%s-%d", fam, d), Group: fam, Arch: a, Shortcut: shortcut})
		}
	}
	return list, nil
}

// RunDepth trains the nets (each resumes) and writes depth.json, depth.md
// and plots/depth.png (every net), plots/depth_plain.png and
// plots/depth_resnet.png.
func RunDepth(ctx context.Context, c DepthConfig) (*Report, error) {
	list, err := DepthNets(c.Families, c.Depths, c.Shortcut)
	if err != nil {
		return nil, err
	}
	runs := &Runs{Name: "depth", Workdir: c.Workdir, Data: c.Data, Recipe: c.Recipe, Nets: list, Device: c.Device, Log: c.Log}
	results, err := runs.Run(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{Name: "depth", Data: c.Data.About, Recipe: c.Recipe, Classes: c.Data.Classes, Results: results}
	byFamily := map[string][]NetResult{}
	for _, r := range results {
		byFamily[r.Net.Group] = append(byFamily[r.Net.Group], r)
	}
	p, err := savePlot(c.Workdir, "depth.png", errorChart("Plain and residual nets on "+c.Data.Short, results))
	if err != nil {
		return nil, err
	}
	rep.Plots = append(rep.Plots, p)
	for _, fam := range c.Families {
		title := map[string]string{"plain": "Plain nets", "resnet": "ResNets"}[fam]
		p, err := savePlot(c.Workdir, "depth_"+fam+".png", errorChart(title+" on "+c.Data.Short, byFamily[fam]))
		if err != nil {
			return nil, err
		}
		rep.Plots = append(rep.Plots, p)
		if f := degradation(fam, byFamily[fam], measuredTrainImages(c.Data, c.Recipe)); f != "" {
			rep.Findings = append(rep.Findings, f)
		}
	}
	rep.Markdown = depthMarkdown(rep, results)
	return rep, rep.write(c.Workdir)
}

// degradation compares the deepest and the shallowest net of a family by
// their final training error, the measure of the degradation problem,
// measured on n images. A gap inside two standard errors of that
// measurement (√(p(1−p)/n) for each error) is reported as no clear
// difference rather than as degradation or its absence.
func degradation(family string, rs []NetResult, n int) string {
	var done []NetResult
	for _, r := range rs {
		if len(r.Curve) > 0 {
			done = append(done, r)
		}
	}
	if len(done) < 2 {
		return ""
	}
	lo, hi := done[0], done[0]
	for _, r := range done {
		if r.Depth < lo.Depth {
			lo = r
		}
		if r.Depth > hi.Depth {
			hi = r
		}
	}
	if hi.Status == StatusDiverged {
		return fmt.Sprintf("%s: %s diverged.", family, hi.Net.Label)
	}
	a, b := hi.Final().TrainError, lo.Final().TrainError
	gap := fmt.Sprintf("%s ends with %.1f%% training error, %s with %.1f%% (%+.1f points",
		hi.Net.Label, 100*a, lo.Net.Label, 100*b, 100*(a-b))
	noise := math.Inf(1)
	if n > 0 {
		noise = 2 * math.Sqrt(a*(1-a)/float64(n)+b*(1-b)/float64(n))
	}
	switch {
	case math.Abs(a-b) <= noise:
		return fmt.Sprintf("%s: the deeper net trains about as well — %s, inside the ±%.1f points of measuring on %d images): no clear degradation.",
			family, gap, 100*noise, n)
	case a > b:
		return fmt.Sprintf("%s: the deeper net trains worse — %s): degradation.", family, gap)
	}
	return fmt.Sprintf("%s: the deeper net trains better — %s): no degradation.", family, gap)
}

// measuredTrainImages is how many training images the training error is
// measured on.
func measuredTrainImages(d *Data, rc Recipe) int {
	n := d.Train.Len()
	if rc.TrainImages > 0 {
		n = min(n, rc.TrainImages)
	}
	if rc.EvalTrain > 0 {
		n = min(n, rc.EvalTrain)
	}
	return n
}

func depthMarkdown(rep *Report, results []NetResult) string {
	var sb strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) }
	p("# Depth: plain nets against residual nets\n\n")
	p("He et al. (CVPR 2016, Fig. 6): on CIFAR-10 a 56-layer plain net has a higher *training* error than a 20-layer one (the degradation problem), while ResNet-20/32/44/56/110 reach 8.75/7.51/7.17/6.97/6.43%% test error.\n\n")
	p("Data: %s. Recipe: %s\n\n", rep.Data, recipeLine(rep.Recipe, firstSteps(results)))
	p("Training error is measured after each epoch on %s training images in evaluation mode, without augmentation; test error on the whole test split.\n\n", evalTrainWords(rep.Recipe))
	p("%s\n", resultsTable(results, rep.Classes))
	if len(rep.Findings) > 0 {
		p("## What the runs show\n\n")
		for _, f := range rep.Findings {
			p("- %s\n", f)
		}
		p("\n")
	}
	for _, pl := range rep.Plots {
		p("![%s](%s)\n\n", pl, pl)
	}
	return sb.String()
}

func firstSteps(rs []NetResult) int {
	if len(rs) == 0 {
		return 0
	}
	return rs[0].Steps
}

func evalTrainWords(rc Recipe) string {
	if rc.EvalTrain <= 0 {
		return "all"
	}
	n := rc.EvalTrain
	if rc.TrainImages > 0 {
		n = min(n, rc.TrainImages)
	}
	return fmt.Sprintf("the first %d", n)
}
