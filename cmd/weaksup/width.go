package main

import (
	"context"
	"fmt"

	"weaksup/internal/listflag"
	"weaksup/resnets"
)

// WidthCommand is `weaksup experiment width`.
type WidthCommand struct{}

const widthHelp = `ResNeXt's comparison at a fixed budget (Xie et al., CVPR 2017, Table 3):
bottleneck nets of one depth (--layers blocks per stage, --planes) whose
grouped 3x3 convs have C groups (--cardinalities) of d channels, d chosen
so each net has about the parameters of the C = 1, d = --base-width net
(at ResNet-50's budget the paper's 1x64d, 2x40d, 4x24d, 8x14d, 32x4d).
Writes width.md (C, d, params, multiply-adds, errors), width.json and
plots/width.png.

` + resnetsCommon + `

Examples:
  weaksup experiment width --quick
  weaksup experiment width --task cifar10 --data /data/cifar-10-batches-bin`

// Run runs the width experiment.
func (c *WidthCommand) Run(ctx context.Context, env Env, args []string) error {
	fs := env.flagSet("experiment width", "experiment width [--quick] [--task cifar10|cifar100 --data DIR] [flags]", widthHelp)
	var f resnetFlags
	f.register(fs, "width")
	cards := listflag.Value[int]{1, 2, 4, 8, 32}
	layers := listflag.Value[int]{3, 3, 3}
	planes := listflag.Value[int]{64, 128, 256}
	fs.Var(&cards, "cardinalities", "comma-separated `list` of cardinalities C (quick: 1,2,4)")
	baseWidth := fs.Int("base-width", 64, "width per group d of the C = 1 net, which sets the budget (quick: 16)")
	fs.Var(&layers, "layers", "comma-separated `list` of blocks per stage (quick: 1,1,1)")
	fs.Var(&planes, "planes", "comma-separated `list` of bottleneck planes per stage (quick: 16,32,64)")
	stemWidth := fs.Int("stem-width", 64, "channels of the stem conv (quick: 16)")
	rc, dev, err := f.parse(fs, args, map[string]string{"cardinalities": "1,2,4", "base-width": "16", "layers": "1,1,1", "planes": "16,32,64", "stem-width": "16"})
	if err != nil {
		return err
	}
	for name, l := range map[string][]int{"cardinalities": cards, "layers": layers, "planes": planes} {
		if err := positive(name, l); err != nil {
			return err
		}
	}
	if len(layers) != len(planes) {
		return fmt.Errorf("flags --layers and --planes: %d stages and %d plane counts", len(layers), len(planes))
	}
	wc := resnets.WidthConfig{Workdir: f.workdir, Cardinalities: cards, BaseWidth: *baseWidth, Layers: layers, Planes: planes,
		StemWidth: *stemWidth, Recipe: rc, Device: dev, Log: env.Stderr}
	if _, err := resnets.WidthNets(wc, 10); err != nil {
		return fmt.Errorf("flags --cardinalities, --base-width, --layers, --planes: %w", err)
	}
	return f.run(env, "width", func(data *resnets.Data) (*resnets.Report, error) {
		wc.Data = data
		return resnets.RunWidth(ctx, wc)
	})
}
