package main

import (
	"context"
	"fmt"

	"weaksup/internal/listflag"
	"weaksup/pretrain"
)

// NoiseCommand runs the label-noise experiment.
type NoiseCommand struct{}

const noiseHelp = `The label-noise experiment of Mahajan et al. (2018): pretrain at each noise
level p — every hashtag of an image replaced with probability p by a tag
drawn from the tag distribution — then transfer each network to the target
task with a linear probe. Writes a table (noise.md, noise.json) and a plot of
accuracy against p (plots/noise.png). Each run resumes when interrupted.

Examples:
  weaksup noise --demo --p 0,0.1,0.25,0.5
  weaksup noise --shards work/shards --task cub --data /data/CUB_200_2011 \
      --arch small --image-size 64 --steps 20000 --p 0,0.25,0.5`

// Run parses flags and runs the experiment.
func (c *NoiseCommand) Run(ctx context.Context, env Env, args []string) error {
	fs := env.flagSet("noise", "noise --p LIST (--demo | --shards DIR --task T --data DIR) [flags]", noiseHelp)
	var f sweepFlags
	f.register(fs, "noise")
	vals := listflag.Value[float64]{0, 0.1, 0.25, 0.5}
	fs.Var(&vals, "p", "comma-separated `list` of noise levels in [0, 1)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	for _, p := range vals {
		if p < 0 || p >= 1 {
			return fmt.Errorf("flag --p: %v is outside [0, 1)", p)
		}
	}
	s, err := f.sweep(ctx, env, "noise")
	if err != nil {
		return err
	}
	s.Setting, s.Values = "label noise p", vals
	s.Apply = func(pc *pretrain.Config, v float64) error { pc.Noise = v; return nil }
	if _, err := s.Run(ctx); err != nil {
		return err
	}
	f.done(env, "noise")
	return nil
}
