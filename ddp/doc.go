// Package ddp trains data-parallel as PyTorch's DistributedDataParallel
// does, on torch.distributed's own C++ core (c10d, through package torch):
// Replicas is train.Parallel over a process group; Flags are the
// data-parallel flags pretrain and finetune share, and Join joins the
// group the environment describes (torchrun, srun, Kubernetes'
// PyTorchJob, or LaunchLocal); LaunchLocal starts N local ranks of a
// command (--nproc-per-node).
//
// Every rank holds the whole model and reads its Part of the data (the
// loader's global positions r, r+World, …); rank 0's parameters and
// buffers are broadcast when a run attaches (after a resume too); c10d's
// Reducer averages the gradients in 25 MB buckets, in the order backward
// produces them, while the backward pass still runs (Options.NoOverlap:
// after it, in reverse parameter order); with gradient accumulation only
// the last micro-batch communicates; batch-norm buffers are broadcast from
// rank 0 every step (broadcast_buffers). Two ranks end every step
// bit-identical, and equal to PyTorch's DDP from the same weights and
// batches. The held-out evaluation is split across the ranks and
// reassembled on rank 0 in one-process order, so its figures equal a
// one-process evaluation. Metrics rows record the world size and the
// communication per step.
//
// Each rank advertises the address of its host's route to MASTER_ADDR
// (AdvertisedAddress; $GLOO_SOCKET_IFNAME names an interface instead), and
// the group refuses a loopback address once ranks on other hosts join
// (CheckAdvertised). A rank that dies, stops or is cut off makes every
// rank fail within seconds, through package torch's heartbeats, with an
// error naming it and its host; the collective timeout bounds what the
// heartbeats cannot see. A rank that torchrun restarted resumes
// (Flags.Restarts).
//
// LaunchLocal hosts the rendezvous store itself and stops every rank when
// one fails.
package ddp
