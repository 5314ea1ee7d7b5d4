package main

import (
	"context"
	"fmt"

	"weaksup/pretrain"
)

// PretrainCommand is the `weaksup pretrain` command.
type PretrainCommand struct{}

const pretrainHelp = `Pretrain a ResNeXt from scratch on Arrow hashtag shards with the recipe of
Mahajan et al. (ECCV 2018): c-of-K target softmax cross-entropy (an image with
k hashtags gets target 1/k on each), SGD with momentum 0.9 and weight decay
1e-4, learning rate lr × batch × accumulate / 256 with a linear warm-up, then
cosine or step decay.

Each step the loop sets the learning rate, evaluates and checkpoints when
due, runs forward/backward over --accumulate batches and steps the
optimizer. Held-out hashtag precision@1, precision@5 and mAP are measured
on the val split every epoch. The run directory --out receives:
  checkpoints/step-NNNNNNNNN/  model.safetensors (torchvision state_dict
                               names), optimizer.safetensors (momentum),
                               state.json (step, loader position, RNG),
                               config.json; written atomically, newest --keep kept
  metrics.jsonl                a row per --log-every steps (step, epoch, loss,
                               lr, images/s) and per evaluation
  plots/loss.png lr.png eval.png

--shards and --out may be gs://BUCKET/PREFIX or s3://BUCKET/PREFIX (credentials
and endpoints as the Google and AWS tools find them; AWS_ENDPOINT_URL for
S3-compatible services). Shards there are read in place: each rank fetches
the JPEGs of its own images by ranged reads, a few batches ahead, not whole
files; --cache-dir keeps what the ranks of this machine fetch in a local
directory of at most --cache-gb GiB, so that each byte crosses the network
once per machine (4 MiB blocks, the whole shard eventually). A checkpoint at
a URL is complete once its checkpoint.json (its files' sizes and SHA-256) is
written after them; --resume takes the newest complete one.

Ctrl-C saves a checkpoint; --resume continues from the newest one exactly
as an uninterrupted run would (same weights, on the CPU). A NaN or infinite
loss stops the run and keeps the last good checkpoint.

--precision bf16 runs convolutions and matrix products under libtorch's
bfloat16 autocast, with fp32 master weights, optimizer state and
checkpoints; auto (the default) picks bf16 where the CPU (AVX512_BF16, AMX)
or GPU (compute capability ≥ 8.0) runs it fast, else fp32, and prints why.
fp16 (CUDA) scales the loss dynamically and skips steps whose gradients
overflow.

Data-parallel training (PyTorch's DistributedDataParallel through c10d):
--nproc-per-node N starts N ranks on this machine; under torchrun, srun or a
Kubernetes PyTorchJob every rank reads its rendezvous from the environment
(RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT). Each rank reads its share of
the shards, gradients are averaged in --bucket-mb buckets while the backward
pass runs, and the learning rate follows the global batch (--batch ×
--accumulate × ranks). Only rank 0 writes --out; --resume works with any
number of ranks. See the README, "Training on many GPUs and machines".

Example:
  weaksup pretrain --shards work/shards --arch small --epochs 10 \
      --batch 64 --image-size 48 --lr 0.1 --out runs/small
  weaksup pretrain --shards work/shards --arch small --epochs 10 \
      --batch 64 --image-size 48 --lr 0.1 --out runs/small --resume
  weaksup pretrain --nproc-per-node 2 --shards work/shards --arch small \
      --epochs 10 --batch 32 --image-size 48 --out runs/small-ddp
  weaksup pretrain --shards s3://BUCKET/shards --out s3://BUCKET/runs/small \
      --cache-dir /scratch/weaksup-cache --cache-gb 200 --arch small --epochs 10`

// Run parses the flags and pretrains.
func (c *PretrainCommand) Run(ctx context.Context, env Env, args []string) error {
	fs := env.flagSet("pretrain", "pretrain --shards DIR|URL --out DIR|URL [flags]", pretrainHelp)
	cfg := pretrain.DefaultConfig()
	cfg.RegisterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see --help)", fs.Args())
	}
	if cfg.Dist.NProcPerNode > 1 {
		return launchRanks(ctx, env, "pretrain", cfg.Dist.NProcPerNode, args)
	}
	res, err := pretrain.Run(ctx, cfg, env.Stderr)
	if err != nil {
		return err
	}
	if res.Rank != 0 {
		return nil
	}
	fmt.Fprintf(env.Stdout, "pretrained %d steps: loss %.4f, %.0f images/s", res.Steps, res.Loss, res.ImagesPerS)
	if res.Eval != nil {
		fmt.Fprintf(env.Stdout, ", held-out precision@1 %.4f precision@5 %.4f mAP %.4f", res.Eval.PrecisionAt1, res.Eval.PrecisionAt5, res.Eval.MAP)
	}
	fmt.Fprintf(env.Stdout, "\ncheckpoint: %s\n", res.Checkpoint)
	return nil
}
