package main

import (
	"context"
	"fmt"

	"weaksup/internal/listflag"
	"weaksup/resnets"
)

// DepthCommand is `weaksup experiment depth`.
type DepthCommand struct{}

const depthHelp = `The degradation experiment of He et al. (CVPR 2016, Fig. 6): plain-n and
ResNet-n (6n+2 layers, basic blocks of 16/32/64 channels; option-A
shortcuts unless --shortcut B) at each of --depths, training error (dashed)
and test error (solid) against epochs. Plain nets degrade with depth —
plain-56 trains to a higher error than plain-20 — and ResNets do not.
Writes depth.md, depth.json, plots/depth.png, depth_plain.png and
depth_resnet.png.

` + resnetsCommon + `

The stand-in: 32x32 images of one anti-aliased shape each (disk, ring,
square, frame, triangle, plus, cross, striped disks, checkered square) at a
random position, size, rotation and color over a random gradient, with
distractor blobs and pixel noise; --standin-train/--standin-test images
(50,000/10,000 like CIFAR-10).

Examples:
  weaksup experiment depth --quick
  weaksup experiment depth --task cifar10 --data /data/cifar-10-batches-bin
  weaksup experiment depth --standin-train 5000 --epochs 10 --depths 20,56`

// Run runs the depth experiment.
func (c *DepthCommand) Run(ctx context.Context, env Env, args []string) error {
	fs := env.flagSet("experiment depth", "experiment depth [--quick] [--task cifar10|cifar100 --data DIR] [flags]", depthHelp)
	var f resnetFlags
	f.register(fs, "depth")
	depths := listflag.Value[int]{20, 32, 44, 56, 110}
	families := listflag.Value[string]{"plain", "resnet"}
	fs.Var(&depths, "depths", "comma-separated `list` of depths, 6n+2 (quick: 8,14)")
	fs.Var(&families, "families", "comma-separated `list`: plain and/or resnet")
	shortcut := fs.String("shortcut", "A", "ResNet shortcut where the shape changes: A (zero padding, the paper's CIFAR choice) or B (projection)")
	rc, dev, err := f.parse(fs, args, map[string]string{"depths": "8,14"})
	if err != nil {
		return err
	}
	// Check the lists before generating or reading any data.
	if err := positive("depths", depths); err != nil {
		return err
	}
	if _, err := resnets.DepthNets(families, depths, *shortcut); err != nil {
		return fmt.Errorf("flags --depths, --families, --shortcut: %w", err)
	}
	return f.run(env, "depth", func(data *resnets.Data) (*resnets.Report, error) {
		return resnets.RunDepth(ctx, resnets.DepthConfig{Workdir: f.workdir, Data: data, Depths: depths,
			Families: families, Shortcut: *shortcut, Recipe: rc, Device: dev, Log: env.Stderr})
	})
}
