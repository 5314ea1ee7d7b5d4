package main

import (
	"context"
	"fmt"

	"weaksup/finetune"
)

// FinetuneCommand is the `weaksup finetune` command.
type FinetuneCommand struct{}

const finetuneHelp = `Transfer a network to a labelled target task: fine-tune every layer under a
new classifier (--mode full), or train a linear classifier on frozen,
cached global-pool features (--mode linear). --from none trains from
scratch: the baseline a pretrained network must beat.

--from takes a pretraining or fine-tuning run directory (its newest
checkpoint), a checkpoint directory, or a .safetensors state_dict in
torchvision naming (e.g. converted published ResNeXt weights); the
architecture is read from the tensor shapes.

Dataset layouts (--task, --data DIR):
  imagenet     DIR/train/<wnid>/*.JPEG; DIR/val/<wnid>/ or flat DIR/val/ with
               LOC_val_solution.csv, or with the devkit's
               ILSVRC2012_validation_ground_truth.txt + synsets.txt (wnids in
               ILSVRC2012_ID order, exported from meta.mat)
  cub          CUB_200_2011: images.txt, image_class_labels.txt,
               train_test_split.txt, classes.txt, images/ (test = val)
  places365    categories_places365.txt, places365_train_standard.txt,
               places365_val.txt, data_256/, val_256/
  imagefolder  DIR/train/<class>/*, DIR/val/<class>/*

Writes into --out: model.safetensors (the network with its new head),
finetune.json, metrics.json (val top-1, top-5, per-class), confusion.png
(up to 200 classes), metrics.jsonl, plots/, checkpoints/ (linear: probe/ and
the cached features/). Ctrl-C saves a checkpoint; --resume continues.

--nproc-per-node N (or torchrun, srun) runs N data-parallel ranks: full
fine-tuning averages gradients across them like pretrain; the linear probe
splits the feature extraction across them and rank 0 trains the probe.

Example:
  weaksup finetune --task cub --data /data/CUB_200_2011 \
      --from runs/pretrain --mode linear --out runs/cub-linear
  weaksup finetune --task imagefolder --data target --from none \
      --arch tiny --image-size 32 --epochs 20 --out runs/scratch
  weaksup finetune --nproc-per-node 2 --task imagefolder --data target \
      --from runs/pretrain --mode full --out runs/full-ddp`

// Run implements Command.
func (c *FinetuneCommand) Run(ctx context.Context, env Env, args []string) error {
	fs := env.flagSet("finetune", "finetune --task imagenet|cub|places365|imagefolder --data DIR --from CHECKPOINT|WEIGHTS.safetensors|none --mode full|linear --out DIR [flags]", finetuneHelp)
	var cfg finetune.Config
	cfg.RegisterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "weaksup finetune: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	for _, f := range []struct{ name, v string }{{"data", cfg.Data}, {"from", cfg.From}, {"out", cfg.Out}} {
		if f.v == "" {
			fmt.Fprintf(fs.Output(), "weaksup finetune: --%s is required\n", f.name)
			return errUsage
		}
	}
	if cfg.Dist.NProcPerNode > 1 {
		return launchRanks(ctx, env, "finetune", cfg.Dist.NProcPerNode, args)
	}
	cfg.Log = env.Stderr
	res, err := finetune.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if res.Rank != 0 {
		return nil
	}
	fmt.Fprintf(env.Stdout, "%s %s: val top-1 %.2f%% top-5 %.2f%% mean per-class %.2f%% (%d images) → %s\n",
		cfg.Task, cfg.Mode, 100*res.Metrics.Top1, 100*res.Metrics.Top5, 100*res.Metrics.MeanPerClass, res.Metrics.Images, res.Model)
	return nil
}
