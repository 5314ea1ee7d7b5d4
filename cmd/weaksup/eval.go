package main

import (
	"context"
	"fmt"

	"weaksup/finetune"
)

// EvalCommand is the `weaksup eval` command.
type EvalCommand struct{}

const evalHelp = `Evaluate a fine-tuned network on a split of a target task: top-1, top-5 and
per-class accuracy, written as metrics.json, with a confusion-matrix plot
(confusion.png) for up to 200 classes. The dataset layouts are those of
'weaksup finetune'. When the weights come from 'weaksup finetune', the
dataset's classes must be the ones it was fine-tuned on, and its image size
is the default.

Example:
  weaksup eval --task cub --data /data/CUB_200_2011 --from runs/cub-linear
  weaksup eval --task imagenet --data /data/imagenet --from runs/in-full \
      --out runs/in-full/eval`

// Run implements Command.
func (c *EvalCommand) Run(ctx context.Context, env Env, args []string) error {
	fs := env.flagSet("eval", "eval --task imagenet|cub|places365|imagefolder --data DIR --from CHECKPOINT|WEIGHTS.safetensors [flags]", evalHelp)
	var cfg finetune.EvalConfig
	cfg.RegisterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "weaksup eval: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	for _, f := range []struct{ name, v string }{{"data", cfg.Data}, {"from", cfg.From}} {
		if f.v == "" {
			fmt.Fprintf(fs.Output(), "weaksup eval: --%s is required\n", f.name)
			return errUsage
		}
	}
	cfg.Log = env.Stderr
	m, err := finetune.Eval(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s %s: top-1 %.2f%% top-5 %.2f%% mean per-class %.2f%% (%d images, %d classes)\n",
		m.Task, m.Split, 100*m.Top1, 100*m.Top5, 100*m.MeanPerClass, m.Images, m.Classes)
	return nil
}
