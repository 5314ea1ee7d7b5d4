package main

import (
	"context"
	"fmt"

	"weaksup/internal/listflag"
	"weaksup/resnets"
)

// InitCommand is `weaksup experiment init`.
type InitCommand struct{}

const initHelp = `Deep networks without batch norm (De & Smith 2020; He et al. ICCV 2015):
at each of --depths (6n+2 layers, basic blocks), residual nets with SkipInit
(a learnable alpha scaling each branch, starting at 0 or at 1/sqrt(d) for d
blocks), the same without SkipInit, and plain nets initialized with MSRA
(std sqrt(2/fan)) or Xavier: which train, which diverge (the loss becomes
NaN or infinite), which stall at chance. Writes init.md (a variant × depth
table), init.json, plots/init_<depth>.png (training loss against steps) and
plots/init_error.png. Variants: skipinit0, skipinit-invsqrt, nonorm,
plain-msra, plain-xavier, and batchnorm (the ResNet, for reference).

` + resnetsCommon + `

Examples:
  weaksup experiment init --quick
  weaksup experiment init --task cifar10 --data /data/cifar-10-batches-bin --depths 20,110,1202`

// Run runs the initialization experiment.
func (c *InitCommand) Run(ctx context.Context, env Env, args []string) error {
	fs := env.flagSet("experiment init", "experiment init [--quick] [--task cifar10|cifar100 --data DIR] [flags]", initHelp)
	var f resnetFlags
	f.register(fs, "init")
	depths := listflag.Value[int]{20, 110, 1202}
	variants := listflag.Value[string](resnets.DefaultInitVariants)
	fs.Var(&depths, "depths", "comma-separated `list` of depths, 6n+2 (quick: 8)")
	fs.Var(&variants, "variants", "comma-separated `list` of variants: skipinit0, skipinit-invsqrt, nonorm, plain-msra, plain-xavier, batchnorm")
	rc, dev, err := f.parse(fs, args, map[string]string{"depths": "8"})
	if err != nil {
		return err
	}
	if err := positive("depths", depths); err != nil {
		return err
	}
	if _, err := resnets.InitNets(variants, depths); err != nil {
		return fmt.Errorf("flags --depths, --variants: %w", err)
	}
	return f.run(env, "init", func(data *resnets.Data) (*resnets.Report, error) {
		return resnets.RunInit(ctx, resnets.InitConfig{Workdir: f.workdir, Data: data, Depths: depths,
			Variants: variants, Recipe: rc, Device: dev, Log: env.Stderr})
	})
}
