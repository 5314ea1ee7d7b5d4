package main

import (
	"context"
	"flag"
	"fmt"

	"weaksup/experiment"
	"weaksup/loader"
	"weaksup/shards"
	"weaksup/train"
)

// ExperimentCommand runs the data-scale experiment.
type ExperimentCommand struct{}

const experimentHelp = `The data-scale experiment of Mahajan et al. (2018): pretrain on growing,
nested fractions of the same hashtag shards with the same number of steps,
transfer each network to the target task with a linear probe, and plot
target accuracy against the number of pretraining images on a log axis.
Writes scale.md, scale.json and plots/scale.png. Each run resumes.

Subcommands:
  scale   accuracy against the number of pretraining images

Examples:
  weaksup experiment scale --demo --fractions 0.1,0.3,1
  weaksup experiment scale --shards work/shards --task imagefolder \
      --data /data/pets --fractions 0.01,0.1,1 --steps 20000`

// Run dispatches to the scale experiment.
func (c *ExperimentCommand) Run(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(env.Stderr, "Usage: weaksup experiment scale [flags]\n\n%s\n\nRun 'weaksup experiment scale --help' for the flags.\n", experimentHelp)
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	if args[0] != "scale" {
		fmt.Fprintf(env.Stderr, "weaksup experiment: unknown experiment %q (want scale; the noise experiment is 'weaksup noise')\n", args[0])
		return errUsage
	}
	fs := env.flagSet("experiment scale", "experiment scale --fractions LIST (--demo | --shards DIR --task T --data DIR) [flags]", experimentHelp)
	var f sweepFlags
	f.register(fs, "scale")
	list := fs.String("fractions", "0.1,0.3,1", "comma-separated fractions of the train split in (0, 1]")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	vals, err := experiment.ParseFloats("fractions", *list)
	if err != nil {
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
	s.Apply = func(pc *train.PretrainConfig, v float64) error { pc.Fraction = v; return nil }
	s.X = func(v float64) float64 { return float64(loader.SubsetLen(split.Blocks(), v)) }
	if _, err := s.Run(ctx); err != nil {
		return err
	}
	f.done(env, "scale")
	return nil
}
