package main

import (
	"context"
	"flag"
	"fmt"

	"weaksup/internal/listflag"
	"weaksup/loader"
	"weaksup/pretrain"
	"weaksup/shards"
)

// ExperimentCommand runs the data-scale experiment and the
// residual-network experiments (depth, init, width).
type ExperimentCommand struct{}

const experimentHelp = `Experiments that each write a table (<name>.md, <name>.json) and plots
(plots/<name>*.png) into --workdir; every run resumes where it stopped.

Subcommands:
  scale   accuracy against the number of pretraining images (Mahajan et al.
          2018): pretrain on growing, nested fractions of the same hashtag
          shards with the same number of steps, transfer each network with
          a linear probe, plot target accuracy against #images (log axis)
  depth   plain-n against ResNet-n on CIFAR (He et al. 2016): training and
          test error against epochs; does the deeper plain net degrade?
  init    deep nets without batch norm: SkipInit alpha = 0 or 1/sqrt(d), no
          SkipInit, plain with MSRA or Xavier init: which train, which diverge
  width   cardinality against width at a fixed budget (Xie et al. 2017)

Run 'weaksup experiment NAME --help' for an experiment's flags.

Examples:
  weaksup experiment scale --demo --fractions 0.1,0.3,1
  weaksup experiment scale --shards work/shards --task imagefolder \
      --data /data/pets --fractions 0.01,0.1,1 --steps 20000`

// Run dispatches to an experiment.
func (c *ExperimentCommand) Run(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(env.Stderr, "Usage: weaksup experiment scale|depth|init|width [flags]\n\n%s\n", experimentHelp)
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "scale":
	case "depth":
		return new(DepthCommand).Run(ctx, env, args[1:])
	case "init":
		return new(InitCommand).Run(ctx, env, args[1:])
	case "width":
		return new(WidthCommand).Run(ctx, env, args[1:])
	default:
		fmt.Fprintf(env.Stderr, "weaksup experiment: unknown experiment %q (want scale, depth, init or width; the noise experiment is 'weaksup noise')\n", args[0])
		return errUsage
	}
	fs := env.flagSet("experiment scale", "experiment scale --fractions LIST (--demo | --shards DIR --task T --data DIR) [flags]", experimentHelp)
	var f sweepFlags
	f.register(fs, "scale")
	vals := listflag.Value[float64]{0.1, 0.3, 1}
	fs.Var(&vals, "fractions", "comma-separated `list` of fractions of the train split in (0, 1]")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	for _, v := range vals {
		if v <= 0 || v > 1 {
			return fmt.Errorf("flag --fractions: %v is outside (0, 1]", v)
		}
	}
	s, err := f.sweep(ctx, env, "scale")
	if err != nil {
		return err
	}
	m, err := shards.ReadManifest(s.Pretrain.Shards)
	if err != nil {
		return err
	}
	split, ok := m.Splits[shards.SplitTrain]
	if !ok {
		return fmt.Errorf("read %s: no train split", s.Pretrain.Shards)
	}
	s.Setting, s.Values, s.LogX = "pretraining images", vals, true
	s.Apply = func(pc *pretrain.Config, v float64) error { pc.Fraction = v; return nil }
	s.X = func(v float64) float64 { return float64(loader.SubsetLen(split.Blocks(), v)) }
	if _, err := s.Run(ctx); err != nil {
		return err
	}
	f.done(env, "scale")
	return nil
}
