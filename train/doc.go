// Package train is the training recipe of Mahajan et al. (ECCV 2018) that
// runs the networks of package nets: losses, SGD, the learning-rate
// schedule, mixed precision, the loop, checkpoints and metrics. Kernels and
// autograd are libtorch's, through package torch.
//
// # Training
//
// Run is the one loop behind pretraining (package pretrain) and
// fine-tuning (package finetune): a Config, a Model (*nets.ResNeXt) and
// Data, whose Train and Val open Batches for a Part of the data — a
// *loader.Loader over hashtag shards or over a loader.SplitSource of a
// labelled dataset. Each optimizer step reads top to bottom:
// Schedule.LR(step) (warm-up, then cosine, step, multistep — He et al.'s
// ÷10 at 32k and 48k — or constant) → evaluate and checkpoint when due
// → forward/backward over Config.Accumulate batches, each in its own
// torch.Scope → Optimizer.Step → a metrics.jsonl row. Targets builds the
// c-of-K (LossSoftmax) or multi-hot (LossSigmoid) rows from Batch.Labels;
// Evaluator gives held-out precision@1/@5, top-1/5 and mAP. Checkpoints are
// directories step-NNNNNNNNN under checkpoints/, written atomically
// (SaveCheckpoint): model.safetensors, optimizer.safetensors, state.json
// (step, loader position, RNG), config.json. Config.Resume restores the
// newest so a killed run ends with the same bits as an uninterrupted one on
// the CPU; a NaN or infinite loss stops with ErrNonFinite and writes no
// checkpoint after it. PlotMetrics draws plots/loss.png, lr.png, eval.png.
//
// Config.Out may be a gs:// or s3:// URL (Config.Storage reaches it).
// Checkpoints there are objects, a checkpoint complete when its marker
// (CheckpointMarker: the files' sizes and SHA-256) is written after its
// files; readers take only marked ones and check what they read against
// the marker, and the objects of a save that died before its marker are
// removed by the next one (checkpoint_url.go). metrics.jsonl and the plots
// are written locally and uploaded before each checkpoint, after each
// evaluation and at the end. A local Out keeps the directory code above.
// ListCheckpoints, LatestCheckpoint, SaveCheckpoint, LoadCheckpoint,
// ReadCheckpointState and LoadWeights take URLs as well as paths.
//
// # Precision
//
// Precision is the arithmetic of the forward pass (fp32, bf16 or fp16
// autocast, or auto) and the flag.Value of every command's --precision:
// RegisterFlag adds the flag, Resolve turns the value into the precision
// of a run once per job — auto measured by a probe step, agreed over the
// ranks — and logs why.
//
// # Several processes
//
// Config.Parallel shares a run with the other ranks of a data-parallel
// job: package ddp implements Parallel over a c10d process group as
// PyTorch's DistributedDataParallel does; Alone, the default, is one
// process and shares nothing. The loop reads the same either way: Reduce
// agrees on values (whether to stop, the mean loss, the checkpoint to
// resume), Attach broadcasts rank 0's weights and prepares the gradient
// buckets, BeforeMicroBatch and AfterBackward bracket each step's
// communication, Evaluate splits the held-out set over the ranks. The
// learning-rate rule and warm-up use the global batch (Batch × Accumulate
// × World); only rank 0 writes checkpoints, metrics, plots and progress.
// Checkpoints record the world size and global batch; a resume works with
// any number of ranks, from the same global sample position (and, with
// another global batch, at the step those images make).
//
// # Parity
//
// parity_test.go checks, with Debian's python3-torch and python3-torchvision
// (testdata/parity.py), that for resnext50_32x4d, resnext29_small, and
// ResNet-14 (options A and B) and plain-14 against an independent PyTorch
// CIFAR net built from torchvision's BasicBlock, the eval and train logits,
// every parameter gradient and the updated running statistics equal
// PyTorch's on the same weights and inputs, in fp32 and under bf16
// autocast, and that torchvision's own resnext50_32x4d loads our file with
// strict=True. Both sides run the same libtorch, so the results are
// bit-identical; the test allows a relative 1e-4.
package train
