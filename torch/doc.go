// Package torch is weaksup's binding to libtorch: tensors, the ops a
// ResNeXt needs, autograd, devices, RNG, an SGD step and torch.distributed's
// process groups, through a narrow C ABI (torch/csrc/weaksup_torch.h)
// implemented by libweaksup_torch.so.
//
// # Loading
//
// The Go binary does not link libtorch. The first call that needs it loads
// libweaksup_torch.so with dlopen, searching $WEAKSUP_TORCH_LIB (a file or a
// directory), the executable's directory, build/lib under the working
// directory and each parent, then the system library paths. A missing
// library is a *LoadError wrapping ErrLibraryNotFound whose message names
// `make torch`, the command that builds it (TORCH_DIR=... builds it against
// another libtorch, e.g. the CUDA one inside a PyTorch install). Call Load
// to report that early; code paths that never create a tensor never load it.
//
// # Tensors and errors
//
// A *Tensor is a handle. Ops return a new *Tensor and never panic: a failed
// op returns a tensor whose Err is set, and every op given a failed tensor
// passes that error on, so a forward pass needs one check at its end:
//
//	h := torch.Conv2d(x, w, nil, torch.Conv2dOptions{Padding: [2]int64{1, 1}})
//	y := bn.Forward(h, train).Relu()
//	if err := y.Err(); err != nil { ... }   // a *torch.Error naming the op
//
// Methods that return Go values (Float32s, Int64s, Bytes, Item, Backward,
// SGDStep, in-place updates) return the error directly; ReluInPlace returns
// its tensor so that it chains, and Failed lets a caller put an error of its
// own into a chain. A nil *Tensor is an absent optional argument (a bias, a
// BN weight).
//
// # Memory: scopes
//
// Tensors are freed explicitly, never by finalizers. Every tensor an op
// creates belongs to the innermost open Scope, which frees it on Close:
//
//	for step := ... {
//	    s := torch.NewScope()
//	    loss := ...forward...
//	    loss.Backward()
//	    torch.SGDStep(params, momentum, torch.SGD{LR: lr, Momentum: 0.9, WeightDecay: 1e-4})
//	    torch.ZeroGrad(params)
//	    v, _ := loss.Item()
//	    s.Close()
//	}
//
// Tensors created with no scope open (parameters, buffers) and tensors moved
// out with Keep belong to the caller, who calls Close (idempotent). Live
// reports the handles alive and their bytes; a loop whose Live grows leaks.
//
// # Autograd
//
// SetRequiresGrad(true) makes a leaf a parameter; Backward on a scalar adds
// gradients into the leaves' .grad (so repeated calls accumulate, for
// gradient accumulation); Grad returns it (nil before any backward);
// ZeroGrad drops it. NoGrad(fn) runs fn without recording (evaluation,
// in-place parameter updates such as CopyFrom or AddInPlace on a leaf).
//
// # Settings and concurrency
//
// Grad mode, the thread count (SetNumThreads), the RNG (ManualSeed,
// RNGState, SetRNGState) and the scope stack are process-wide: libtorch's
// thread-local settings would not follow a goroutine that moves between OS
// threads. Run a model from one goroutine; other goroutines may prepare Go
// slices (decoding, augmentation) and hand them over. Ops on distinct tensors
// are safe from several goroutines, but their tensors then land in whatever
// scope is innermost, so do not create tensors from other goroutines while a
// step's scope is open.
//
// libtorch's CPU kernels use OpenMP. On a machine shared with other busy
// processes, OMP_WAIT_POLICY=PASSIVE stops idle OpenMP workers from spinning
// and can make a step several times faster; on a machine of its own the
// default is as fast.
//
// # Mixed precision
//
// Autocast(dev, BFloat16, fn) runs fn under libtorch's autocast, as
// `with torch.autocast(...)` does: convolutions and matrix products in the
// low precision, losses and batch-norm statistics in float32; the weights
// stay float32 and their gradients come out float32. Like grad mode the
// setting is process-wide and holds on whatever OS thread a call runs;
// leaving the region drops libtorch's cache of weight casts (on every
// thread, at its next call), so run one forward pass per region and
// Backward outside it. UnscaleGrads is the check-and-unscale step of
// dynamic loss scaling (float16); BF16Supported says whether a device
// computes bfloat16 natively.
//
// # Devices and layout
//
// CPU always; CUDA(i) when the library was built against a CUDA libtorch
// (CUDAAvailable). Tensors come from Go slices on the CPU (FromFloat32,
// FromInt64, FromData) and move with To. ToFormat(ChannelsLast) gives the
// NHWC layout that makes libtorch's CPU convolutions much faster on small
// images; Float32s and Bytes always return logical row-major order.
//
// # Distributed: process groups
//
// The shim exposes torch.distributed's C++ core, c10d, as PyTorch's own
// DistributedDataParallel uses it. A Store is a TCPStore (the rendezvous;
// NewStore with Port 0 and Server binds a free port); NewGroup makes a
// Gloo process group (NCCL in a shim built against a CUDA libtorch with
// nccl.h; DistBackends lists what the build has); Join does both from a
// Rendezvous, which RendezvousFromEnv reads from what torchrun, Kubernetes'
// PyTorchJob or srun set (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
// LOCAL_RANK; SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID and the node list).
// A Group broadcasts (coalesced), allreduces a flat bucket of tensors,
// gathers and synchronizes; a Reducer is c10d's Reducer, which averages the
// gradients in buckets during the backward pass.
//
// Every collective runs under the group's timeout, so a peer that died or
// stopped is an error, never a hang; and the heartbeat watcher ends it
// sooner. Each rank bumps a heartbeat counter in the store every
// HeartbeatInterval from a goroutine; rank 0 watches every rank's, the
// others rank 0's and the verdicts rank 0 publishes. A rank silent for
// LostAfterBeats intervals, or a store that leaves an operation unanswered
// as long, aborts the group: every wait on its collectives (and, on Gloo,
// the end of a reducing backward pass) fails then, and a failed collective
// (or Diagnose, for a backward pass) returns a *PeerLostError naming the
// lost ranks and their hosts, or a *StoreLostError. A group whose
// collective failed is not destroyed on Close: Gloo's threads may still be
// blocked on the lost peer, and the process's exit ends them.
//
// Join first exchanges what each rank tells the others (Peer: host name,
// the address its Gloo binds and advertises, its network stack), and lets
// the caller check it (JoinOptions.CheckPeers) before Gloo connects.
//
// The C ABI, for reference: every entry returns 0 or -1 with a message in an
// out-parameter, in the same call (no thread-local error state); one free per
// handle type; no C++ exception crosses it; the library keeps no pointer to Go
// memory after a call returns.
package torch
