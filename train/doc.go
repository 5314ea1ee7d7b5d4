// Package train holds the ResNeXt family, its weights files, and the
// training recipe of Mahajan et al. (ECCV 2018) that runs it: losses, SGD,
// the learning-rate schedule, the loop, checkpoints and metrics. Kernels
// and autograd are libtorch's, through package torch.
//
// # Models
//
// An Arch is a ResNeXt as a table of parameters, as torchvision expresses
// it: Bottleneck blocks per stage, planes, cardinality (Groups, only on the
// 3x3 conv) and width per group; makeStage builds a stage as torchvision's
// _make_layer does, adding the 1x1 projection shortcut (downsample.0 conv,
// downsample.1 BN) when the stride or width changes.
// LookupArch knows resnext50_32x4d, resnext101_32x{4,8,16,32,48}d (ImageNet
// stem), resnext29_8x64d (Xie et al.'s CIFAR net), resnext29_small (the
// same layout, narrower: the small net for 32–64 px) and resnext_tiny (one
// block per stage, for tests and the demo).
//
//	torch.ManualSeed(seed)
//	arch, err := train.LookupArch("resnext29_small")
//	m, err := train.NewResNeXt(train.Options{Arch: arch, NumClasses: k, ChannelsLast: true})
//	defer m.Close()
//
// Options select the block design (Bottleneck, PreAct, SkipInit: each a
// type of its own, with the stem and closing layers its paper gives it),
// the conv init (MSRA, He et al. 2015, torchvision's; or Xavier, Glorot &
// Bengio 2010), the zero-init of the last BN γ of each block (Goyal et al.
// 2017), the device, and the channels-last layout (much faster on CPU;
// results equal PyTorch's in the same layout). Initialization draws from
// libtorch's default generator, always on the CPU, in torchvision's module
// order, so a seed gives torchvision's layout of random weights.
//
// A new block design is a type with a forward method and a constructor
// that registers its tensors in torchvision's order (blocks.go), plus a
// row in the designs table; makeStage and the shortcut rule stay as they
// are. A basic block (two 3x3 convs, CIFAR ResNet-n) is such a type, with
// an Arch whose blocks expand by 1 instead of 4; a plain net is a design
// whose blocks leave out the add of the shortcut.
//
// A step, in the order the loop runs it:
//
//	s := torch.NewScope()
//	logits, err := m.Forward(x, true)     // x [N,3,H,W] float32; BN running stats update in place
//	loss := torch.SoftCrossEntropy(logits, targets)
//	err = loss.Backward()                  // gradients accumulate into each parameter's .grad
//	err = torch.SGDStep(m.Trainable(), momentum, torch.SGD{LR: lr, Momentum: 0.9, WeightDecay: 1e-4})
//	err = torch.ZeroGrad(m.Trainable())
//	v, err := loss.Item()
//	s.Close()
//
// Forward(x, false) is eval mode (run it inside torch.NoGrad); Features
// returns the pooled [N, FeatureDim] features; Head returns fc.weight and
// fc.bias; ReplaceHead puts a new fc of another size for fine-tuning.
// Parameters returns the whole state_dict (parameters and BN buffers,
// Buffer set) under torchvision names — conv1.weight, bn1.running_mean,
// layer1.0.conv2.weight, layer1.0.downsample.1.num_batches_tracked,
// fc.weight — and Trainable the tensors an optimizer updates, in the same
// order. A model is not safe for concurrent use.
//
// # Weights files
//
// Weights are safetensors files with torchvision state_dict names, row-major
// float32, BN buffers included: Save writes one atomically, and
// torchvision.models.resnext50_32x4d().load_state_dict(..., strict=True)
// accepts it; Load reads one back, strictly (LoadOptions.IgnoreHead to take
// a backbone under a new head). SaveTensors and LoadTensors do the same for
// any named tensors (optimizer state), and ParseSafetensors /
// WriteSafetensors are the format itself, without libtorch.
//
// # Parity
//
// parity_test.go checks, with Debian's python3-torch and python3-torchvision
// (testdata/parity.py), that for resnext50_32x4d and resnext29_small the
// eval and train logits, every parameter gradient and the updated running
// statistics equal PyTorch's on the same weights and inputs, and that
// torchvision's own resnext50_32x4d loads our file with strict=True. Both
// sides run the same libtorch, so the results are bit-identical; the test
// allows a relative 1e-4.
//
// # Training
//
// Run is the one loop behind pretraining (Pretrain, `weaksup pretrain`) and
// fine-tuning (package finetune): a Config, a Model (*ResNeXt) and Data,
// whose Train and Val open Batches for a Part of the data — a
// *loader.Loader over hashtag shards or over a loader.SplitSource of a
// labelled dataset. Each optimizer step
// reads top to bottom: Schedule.LR(step) → evaluate and checkpoint when due
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
// # Data parallelism
//
// With Config.Dist.Group (a torch.Group, from DistFlags.Join) Run trains
// data-parallel as PyTorch's DistributedDataParallel does: rank 0's
// parameters and buffers are broadcast at the start (after a resume too);
// every rank reads its Part of the data (the loader's global positions r,
// r+World, …); c10d's Reducer averages the gradients in 25 MB buckets, in
// the order backward produces them, while the backward pass still runs
// (DistConfig.NoOverlap: after it, in reverse parameter order); with
// Accumulate > 1 only the last micro-batch communicates; batch-norm buffers
// are broadcast from rank 0 every step (broadcast_buffers). Two ranks end
// every step bit-identical, and equal to PyTorch's DDP from the same
// weights and batches. The learning-rate rule and warm-up use the global
// batch (Batch × Accumulate × World); metrics rows record both batches,
// the world size and the communication per step. Only rank 0 writes
// checkpoints, metrics.jsonl, plots and progress. The held-out evaluation
// is split across the ranks and reassembled on rank 0 in one-process
// order, so its figures equal a one-process evaluation. The ranks agree
// before each step whether to stop (an interrupted rank stops all after
// the same step); a rank that dies makes the others fail within the
// collective timeout with an error naming it. Checkpoints record the world
// size and global batch; --resume works with any number of ranks, from the
// same global sample position (and, with another global batch, at the step
// those images make).
//
// LaunchLocal starts N local ranks of a command (--nproc-per-node), hosting
// the rendezvous store itself and stopping every rank when one fails.
package train
