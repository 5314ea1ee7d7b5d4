package ddp

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"weaksup/torch"
	"weaksup/train"
)

// Flags are the data-parallel settings pretrain and finetune share.
// The process group itself comes from the environment a launcher sets
// (torchrun, srun, Kubernetes' PyTorchJob, or --nproc-per-node).
type Flags struct {
	// NProcPerNode > 1 makes the command start that many local ranks of
	// itself (LaunchLocal) instead of training.
	NProcPerNode int `json:"nproc_per_node,omitempty"`
	// Backend is "gloo", "nccl", or "" for nccl on CUDA and gloo on the CPU.
	Backend string `json:"dist_backend,omitempty"`
	// Timeout bounds every collective and the rendezvous.
	Timeout   time.Duration `json:"dist_timeout,omitempty"`
	BucketMB  float64       `json:"bucket_mb,omitempty"`
	NoOverlap bool          `json:"no_overlap,omitempty"`
	// AllRanksLog lets every rank write progress (rank 0 only by default).
	AllRanksLog bool `json:"-"`
}

// DefaultTimeout bounds a collective: long enough for rank 0 to write a
// checkpoint of a large model while the others wait at the next collective.
const DefaultTimeout = 10 * time.Minute

// DefaultFlags returns the defaults the flags show.
func DefaultFlags() Flags {
	return Flags{Timeout: DefaultTimeout, BucketMB: defaultBucketMB}
}

// RegisterFlags adds the data-parallel flags to fs, with d's values as
// defaults.
func (d *Flags) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&d.NProcPerNode, "nproc-per-node", d.NProcPerNode, "start N data-parallel ranks of this command on this machine (0 or 1: one process, or the ranks a launcher such as torchrun or srun started)")
	fs.StringVar(&d.Backend, "dist-backend", d.Backend, "process-group backend: gloo or nccl (default: nccl on CUDA, gloo on the CPU)")
	fs.DurationVar(&d.Timeout, "dist-timeout", d.Timeout, "bound of the rendezvous and of every collective (a rank that died, stopped or was cut off ends the job within seconds through the heartbeats; this bounds what they cannot see)")
	fs.Float64Var(&d.BucketMB, "bucket-mb", d.BucketMB, "gradient allreduce bucket size in MB (DistributedDataParallel's bucket_cap_mb)")
	fs.BoolVar(&d.NoOverlap, "no-overlap", d.NoOverlap, "allreduce gradients after the backward pass instead of overlapping it")
	fs.BoolVar(&d.AllRanksLog, "log-all-ranks", d.AllRanksLog, "let every rank print progress, not only rank 0")
}

// Validate checks the values the flags cannot, naming the flag. Zero
// values stand for the defaults.
func (d Flags) Validate() error {
	switch {
	case d.NProcPerNode < 0:
		return fmt.Errorf("check flag --nproc-per-node: %d, want ≥ 0", d.NProcPerNode)
	case d.Backend != "" && d.Backend != torch.BackendGloo && d.Backend != torch.BackendNCCL:
		return fmt.Errorf("check flag --dist-backend: %q, want gloo or nccl", d.Backend)
	case d.Timeout < 0:
		return fmt.Errorf("check flag --dist-timeout: %v, want > 0", d.Timeout)
	case d.BucketMB < 0:
		return fmt.Errorf("check flag --bucket-mb: %v, want > 0", d.BucketMB)
	}
	return nil
}

// Join joins the process group the environment describes, if any, and
// returns the group (nil for a single process) and the device this rank
// trains on: "cuda" (cuda:0) becomes cuda:LOCAL_RANK. The caller closes the
// group with CloseAll.
func (d Flags) Join(dev torch.Device, log io.Writer) (*torch.Group, torch.Device, error) {
	rv, ok, err := torch.RendezvousFromEnv(os.Getenv)
	if err != nil || !ok {
		return nil, dev, err
	}
	if rv.World == 1 {
		return nil, dev, nil
	}
	if dev.Type == torch.DeviceCUDA && dev.Index == 0 {
		dev = torch.CUDA(rv.LocalRank)
	}
	backend := d.Backend
	if backend == "" {
		backend = torch.BackendGloo
		if dev.Type == torch.DeviceCUDA {
			backend = torch.BackendNCCL
		}
	}
	if backend == torch.BackendNCCL && dev.Type != torch.DeviceCUDA {
		return nil, dev, fmt.Errorf("check flag --dist-backend nccl: it reduces CUDA tensors; train with --device cuda, or use gloo on the CPU")
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if rv.Rank == 0 && log != nil {
		from := "RANK/WORLD_SIZE"
		if rv.Source == "slurm" {
			from = "SLURM_PROCID/SLURM_NTASKS"
		}
		host := "rank 0"
		if rv.AgentStore {
			host = "the launcher"
		}
		fmt.Fprintf(log, "data-parallel: %d ranks from %s, backend %s, store %s:%d hosted by %s, collective timeout %v\n",
			rv.World, from, backend, rv.Addr, rv.Port, host, timeout)
	}
	advertise := func() (torch.Peer, error) {
		p, err := AdvertisedAddress(rv, os.Getenv)
		if err == nil && rv.Rank == 0 && log != nil {
			fmt.Fprintf(log, "data-parallel: rank 0 at %s (%s)\n", p.Addr, p.From)
		}
		return p, err
	}
	g, err := torch.Join(rv, torch.JoinOptions{Backend: backend, Timeout: timeout, Advertise: advertise, CheckPeers: CheckAdvertised})
	if err != nil {
		return nil, dev, err
	}
	return g, dev, nil
}

// Restarts returns how many times the launcher restarted this process
// ($TORCHELASTIC_RESTART_COUNT, which torchrun --max-restarts sets): a
// restarted rank resumes from the newest checkpoint.
func (d Flags) Restarts() int {
	n, _ := strconv.Atoi(os.Getenv(torch.EnvRestarts))
	return n
}

// Parallel returns the train.Parallel of group g with these settings
// (train.Alone for a nil group).
func (d Flags) Parallel(g *torch.Group) train.Parallel {
	return New(g, Options{BucketMB: d.BucketMB, NoOverlap: d.NoOverlap})
}
