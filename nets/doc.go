// Package nets holds the residual networks weaksup trains — the ResNeXt
// family and He et al.'s CIFAR nets — their summaries, and their weights
// files. Kernels and autograd are libtorch's, through package torch; the
// training recipe that runs them is package train's.
//
// # Models
//
// An Arch is a residual network as a table of parameters, as torchvision
// expresses it: blocks per stage, planes, cardinality (Groups, only on the
// 3x3 conv) and width per group, and whether the blocks are bottlenecks
// (expansion 4) or basic blocks (Basic: two 3x3 convs, expansion 1);
// makeStage builds a stage as torchvision's _make_layer does, giving the
// first block of a stage that changes width or resolution the shortcut of
// option B (a 1x1 projection: downsample.0 conv, downsample.1 BN) or option
// A (He et al.'s CIFAR choice: the input subsampled, zero channels
// appended; no tensors). Options.Shortcut picks; the default is A for
// basic blocks and B for bottlenecks.
// LookupArch knows resnext50_32x4d, resnext101_32x{4,8,16,32,48}d (ImageNet
// stem), resnext29_8x64d (Xie et al.'s CIFAR net), resnext29_small (the
// same layout, narrower: the small net for 32–64 px), resnext_tiny (one
// block per stage, for tests and the demo), and the CIFAR nets of He et
// al.: resnetN and plainN for any N = 6n+2 (20, 32, 44, 56, 110, 1202:
// 16/32/64 channels) and the pre-activation bottleneck preact_resnetN for
// N = 9n+2 (164, 1001).
//
//	torch.ManualSeed(seed)
//	arch, err := nets.LookupArch("resnet56")
//	m, err := nets.NewResNeXt(nets.Options{Arch: arch, NumClasses: 10, ChannelsLast: true})
//	defer m.Close()
//
// Options select the block design — Bottleneck and Basic (He et al.'s
// post-activation block of each shape), Plain (the same without its
// shortcut: He et al.'s plain nets), PreAct, SkipInit (no BN, a scalar
// alpha at 0 or 1/√d scaling each branch: Options.Alpha), NoNorm (no BN,
// no alpha) and PlainNoNorm; each a type of its own per shape, with the
// stem and closing layers its paper gives it; the zero value takes the
// arch's own (Basic for resnet56, Plain for plain56) — the conv init (MSRA,
// He et al. 2015, torchvision's; or Xavier, Glorot & Bengio 2010), the
// zero-init of the last BN γ of each block (Goyal et al. 2017), the device,
// and the channels-last layout (much faster on CPU; results equal
// PyTorch's in the same layout). Initialization draws from libtorch's
// default generator, always on the CPU, in torchvision's module order, so
// a seed gives torchvision's layout of random weights.
//
// A new block design is a type with a forward method and a constructor
// that registers its tensors in torchvision's order (blocks.go,
// cifar_resnet.go), plus a row in the designs table; makeStage and the
// shortcut rule stay as they are.
//
// Summarize describes a network without libtorch, by running the same
// construction code with a builder that counts instead of creating
// tensors: trainable parameters, the conv and fc weights alone (what the
// papers quote: ResNet-20 0.27M, ResNet-110 1.7M, ResNet-1001 10.2M),
// multiply-adds at an input size, the number of weighted layers, and a
// row per stage (`weaksup arch`).
//
// A step, as package train's loop runs it:
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
package nets
