package resnets

import (
	"context"
	"fmt"
	"io"
	"strings"

	"weaksup/nets"
	"weaksup/torch"
)

// InitVariant is one network design of the initialization experiment.
type InitVariant struct {
	Name  string // flag value
	Label string
	Plain bool   // no shortcuts
	Block string // train.Block name
	Alpha string
	Init  string
	About string // what the paper says of it
}

// InitVariants are the designs the initialization experiment compares, all
// without batch norm but "batchnorm", the reference.
var InitVariants = []InitVariant{
	{Name: "skipinit0", Label: "SkipInit α=0", Block: "skipinit", Alpha: "0",
		About: "De & Smith (2020): each residual branch scaled by a learnable α that starts at 0, so every block starts as the identity; trains deep nets without batch norm"},
	{Name: "skipinit-invsqrt", Label: "SkipInit α=1/√d", Block: "skipinit", Alpha: "1/sqrt(d)",
		About: "α starts at 1/√d for d residual blocks, so the sum of the branches keeps unit scale"},
	{Name: "nonorm", Label: "residual, no BN, no α", Block: "nonorm",
		About: "the same residual net without SkipInit: the variance doubles with every block, so deep ones diverge"},
	{Name: "plain-msra", Label: "plain, no BN, MSRA init", Plain: true, Block: "plain-nonorm", Init: "msra",
		About: "He et al. (ICCV 2015): a plain ReLU net initialized with std √(2/n) keeps the signal's scale through depth"},
	{Name: "plain-xavier", Label: "plain, no BN, Xavier init", Plain: true, Block: "plain-nonorm", Init: "xavier",
		About: "Glorot & Bengio's init halves the signal's variance at every ReLU layer: a deep plain net stalls"},
	{Name: "batchnorm", Label: "ResNet with batch norm", Block: "basic",
		About: "He et al.'s ResNet, the reference"},
}

// DefaultInitVariants are the variants `weaksup experiment init` runs
// unless told otherwise.
var DefaultInitVariants = []string{"skipinit0", "skipinit-invsqrt", "nonorm", "plain-msra", "plain-xavier"}

// LookupInitVariant returns the variant of a name.
func LookupInitVariant(name string) (InitVariant, error) {
	for _, v := range InitVariants {
		if v.Name == name {
			return v, nil
		}
	}
	var names []string
	for _, v := range InitVariants {
		names = append(names, v.Name)
	}
	return InitVariant{}, fmt.Errorf("init experiment: variant %q, want one of %s", name, strings.Join(names, ", "))
}

// InitConfig is the initialization experiment: residual networks without
// batch norm, with SkipInit's α at 0 or 1/√d and without it, and plain
// networks with MSRA or Xavier initialization, at several depths (6n+2,
// basic blocks of 16/32/64 channels): which train and which diverge.
type InitConfig struct {
	Workdir  string
	Data     *Data
	Depths   []int
	Variants []string
	Recipe   Recipe
	Device   torch.Device
	Log      io.Writer
}

// InitNets returns one net per depth and variant.
func InitNets(variants []string, depths []int) ([]Net, error) {
	var list []Net
	for _, d := range depths {
		for _, name := range variants {
			v, err := LookupInitVariant(name)
			if err != nil {
				return nil, err
			}
			a, err := nets.CIFARResNet(d)
			if v.Plain {
				a, err = nets.CIFARPlain(d)
			}
			if err != nil {
				return nil, err
			}
			list = append(list, Net{Key: fmt.Sprintf("%s-%d", v.Name, d), Label: fmt.Sprintf("%s, %d layers", v.Label, d),
				Group: v.Name, Arch: a, Block: v.Block, Alpha: v.Alpha, Init: v.Init})
		}
	}
	return list, nil
}

// RunInit trains every net (each resumes; a diverged one is not run
// again) and writes init.json, init.md and plots/init_<depth>.png (training
// loss against steps, one curve per variant) and plots/init_error.png.
func RunInit(ctx context.Context, c InitConfig) (*Report, error) {
	list, err := InitNets(c.Variants, c.Depths)
	if err != nil {
		return nil, err
	}
	runs := &Runs{Name: "init", Workdir: c.Workdir, Data: c.Data, Recipe: c.Recipe, Nets: list, Device: c.Device, Log: c.Log}
	results, err := runs.Run(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{Name: "init", Data: c.Data.About, Recipe: c.Recipe, Classes: c.Data.Classes, Results: results}
	for _, d := range c.Depths {
		var rs []NetResult
		for _, r := range results {
			if r.Depth == d {
				rs = append(rs, r)
			}
		}
		p, err := savePlot(c.Workdir, fmt.Sprintf("init_%d.png", d), lossChart(fmt.Sprintf("No batch norm, %d layers: training loss", d), rs))
		if err != nil {
			return nil, err
		}
		rep.Plots = append(rep.Plots, p)
	}
	p, err := savePlot(c.Workdir, "init_error.png", errorChart("No batch norm", results))
	if err != nil {
		return nil, err
	}
	rep.Plots = append(rep.Plots, p)
	for _, r := range results {
		rep.Findings = append(rep.Findings, fmt.Sprintf("%s: %s", r.Net.Label, verdictWords(r, c.Data.Classes)))
	}
	rep.Markdown = initMarkdown(rep, c)
	return rep, rep.write(c.Workdir)
}

func verdictWords(r NetResult, classes int) string {
	v := r.Verdict(classes)
	if len(r.Curve) > 0 {
		f := r.Final()
		v += fmt.Sprintf(" (after %.1f epochs: training error %.1f%%, loss %.3f)", f.Epoch, 100*f.TrainError, f.TrainLoss)
	}
	return v
}

func initMarkdown(rep *Report, c InitConfig) string {
	var sb strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) }
	p("# Initialization: deep networks without batch norm\n\n")
	p("Data: %s. Recipe: %s\n\n", rep.Data, recipeLine(rep.Recipe, firstSteps(rep.Results)))
	p("| variant | what it is |\n|---|---|\n")
	for _, name := range c.Variants {
		v, _ := LookupInitVariant(name)
		p("| %s | %s |\n", v.Label, v.About)
	}
	p("\nWhich train (final training error, %d classes; \"did not learn\" is within 5 points of chance):\n\n", rep.Classes)
	p("| variant |")
	for _, d := range c.Depths {
		p(" %d layers |", d)
	}
	p("\n|---|")
	for range c.Depths {
		p("---|")
	}
	p("\n")
	for _, name := range c.Variants {
		v, _ := LookupInitVariant(name)
		p("| %s |", v.Label)
		for _, d := range c.Depths {
			cell := "–"
			for _, r := range rep.Results {
				if r.Net.Group == name && r.Depth == d {
					cell = r.Verdict(rep.Classes)
					if len(r.Curve) > 0 && r.Status != StatusDiverged {
						cell += fmt.Sprintf(", %.1f%%", 100*r.Final().TrainError)
					}
				}
			}
			p(" %s |", cell)
		}
		p("\n")
	}
	p("\n%s\n", resultsTable(rep.Results, rep.Classes))
	for _, pl := range rep.Plots {
		p("![%s](%s)\n\n", pl, pl)
	}
	return sb.String()
}
