package pretrain

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"weaksup/ddp"
	"weaksup/loader"
	"weaksup/nets"
	"weaksup/shards"
	"weaksup/storage"
	"weaksup/torch"
	"weaksup/train"
)

// Config is `weaksup pretrain`: a ResNeXt trained from scratch on
// the train split of a shard directory, evaluated on its val split. It is
// JSON-serializable and recorded in every checkpoint.
type Config struct {
	Shards     string `json:"shards"`
	Out        string `json:"out"`
	Arch       string `json:"arch"`
	Block      string `json:"block"`
	Epochs     int    `json:"epochs"`
	Steps      int    `json:"steps"`
	Batch      int    `json:"batch"`
	Accumulate int    `json:"accumulate"`
	ImageSize  int    `json:"image_size"`

	LR           float64 `json:"lr"`
	WarmupEpochs float64 `json:"warmup_epochs"`
	Decay        string  `json:"decay"`
	StepEpochs   float64 `json:"step_epochs"`
	Gamma        float64 `json:"gamma"`
	MinLR        float64 `json:"min_lr"`
	Momentum     float64 `json:"momentum"`
	WeightDecay  float64 `json:"weight_decay"`
	Nesterov     bool    `json:"nesterov"`
	NoDecayNorm  bool    `json:"no_decay_norm"`
	Loss         string  `json:"loss"`

	Sampling string  `json:"sampling"`
	Noise    float64 `json:"noise"`
	Fraction float64 `json:"fraction,omitempty"`
	Seed     uint64  `json:"seed"`
	Workers  int     `json:"workers"`
	// CacheDir, when set, keeps the bytes of gs:// and s3:// shards in a
	// local directory of at most CacheGB GiB, shared by the ranks of a
	// machine, so that each byte crosses the network once per machine.
	CacheDir string  `json:"cache_dir,omitempty"`
	CacheGB  float64 `json:"cache_gb,omitempty"`
	// Storage reaches gs:// and s3:// shards and run directories (nil:
	// the storage layer's defaults, from the environment).
	Storage *storage.Options `json:"-"`

	CheckpointEvery   int     `json:"checkpoint_every"`
	CheckpointMinutes float64 `json:"checkpoint_minutes"`
	Keep              int     `json:"keep"`
	EvalEvery         int     `json:"eval_every"`
	EvalImages        int     `json:"eval_images"`
	EvalAtStart       bool    `json:"eval_at_start"`
	LogEvery          int     `json:"log_every"`
	NoPlots           bool    `json:"no_plots"`

	Threads        int             `json:"threads"`
	Device         string          `json:"device"`
	Precision      train.Precision `json:"precision"`
	ChannelsLast   bool            `json:"channels_last"`
	ZeroInitLastBN bool            `json:"zero_init_last_bn"`
	Resume         bool            `json:"-"`

	// Dist: data-parallel training over the ranks a launcher started.
	Dist ddp.Flags `json:"dist"`
}

// openShards opens the shard directory, through a cache when CacheDir is
// set and the shards are at a URL.
func openShards(ctx context.Context, c Config) (*storage.Dir, error) {
	var opts storage.Options
	if c.Storage != nil {
		opts = *c.Storage
	}
	if c.CacheDir != "" && storage.IsURL(c.Shards) {
		cache, err := storage.NewCache(c.CacheDir, int64(c.CacheGB*(1<<30)), nil)
		if err != nil {
			return nil, fmt.Errorf("open --cache-dir: %w", err)
		}
		opts.Cache = cache
	}
	d, err := storage.Open(ctx, c.Shards, &opts)
	if errors.Is(err, fs.ErrNotExist) {
		// No directory (or bucket), so no manifest: say which file is
		// missing, as for a directory without one.
		loc, _ := storage.ParseLocation(c.Shards) // Validate parsed it
		return nil, fmt.Errorf("open --shards: read manifest %s: %w", loc.Join(shards.ManifestName), err)
	}
	if err != nil {
		return nil, fmt.Errorf("open --shards: %w", err)
	}
	return d, nil
}

// DefaultConfig returns the defaults the flags show: the paper's
// recipe (c-of-K softmax, SGD momentum 0.9, weight decay 1e-4, LR 0.1 per
// 256 images with warm-up, cosine decay) sized for the small net on a CPU.
func DefaultConfig() Config {
	return Config{
		Arch: "small", Block: "bottleneck", Epochs: 1, Batch: 64, Accumulate: 1, ImageSize: 64,
		LR: 0.1, WarmupEpochs: 1, Decay: train.DecayCosine, StepEpochs: 30, Gamma: 0.1,
		Momentum: 0.9, WeightDecay: 1e-4, Loss: train.LossSoftmax, Sampling: loader.SamplingNatural, Seed: 1,
		CacheGB:         50,
		CheckpointEvery: 1000, CheckpointMinutes: 10, Keep: 3, EvalImages: 10000, LogEvery: 10,
		Device: "cpu", Precision: train.PrecisionAuto, ChannelsLast: true, ZeroInitLastBN: true, Dist: ddp.DefaultFlags(),
	}
}

// RegisterFlags adds the pretraining flags to fs, with c's values as
// defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Shards, "shards", c.Shards, "shard `directory` (manifest.json, shard-*.arrow, val-*.arrow) written by the shards stage: a local path, gs://BUCKET/PREFIX or s3://BUCKET/PREFIX (read in place, each rank its share)")
	fs.StringVar(&c.Out, "out", c.Out, "run `directory`: checkpoints/, metrics.jsonl, plots/, tag_ap.tsv; a local path, gs://BUCKET/PREFIX or s3://BUCKET/PREFIX")
	fs.StringVar(&c.CacheDir, "cache-dir", c.CacheDir, "local `directory` caching the bytes of gs:// and s3:// --shards, shared by the ranks of this machine (each byte then crosses the network once per machine, in 4 MiB blocks); empty: no cache, each rank fetches only its share of the images every epoch")
	fs.Float64Var(&c.CacheGB, "cache-gb", c.CacheGB, "size limit of --cache-dir in GiB (least recently used blocks go first)")
	fs.StringVar(&c.Arch, "arch", c.Arch, "architecture: tiny, small, or one of "+strings.Join(nets.ArchNames(), ", "))
	fs.StringVar(&c.Block, "block", c.Block, "residual block: bottleneck (the arch's own: basic for resnetN, plain for plainN), preact (He et al. 2016), skipinit (De & Smith 2020), or "+strings.Join(nets.BlockNames()[3:], ", "))
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "passes over the train split (ignored when --steps is set)")
	fs.IntVar(&c.Steps, "steps", c.Steps, "optimizer steps to run; 0 runs --epochs epochs")
	fs.IntVar(&c.Batch, "batch", c.Batch, "images per forward/backward pass (of each rank when data-parallel)")
	fs.IntVar(&c.Accumulate, "accumulate", c.Accumulate, "passes whose gradients add up to one optimizer step (effective batch = batch × accumulate)")
	fs.IntVar(&c.ImageSize, "image-size", c.ImageSize, "input side in `pixels` (32–64 for tiny/small/resnext29_*, 224 for resnext50/101)")
	fs.Float64Var(&c.LR, "lr", c.LR, "base learning rate per 256 images; the peak is lr × global batch / 256, global batch = batch × accumulate × ranks (Goyal et al. 2017)")
	fs.Float64Var(&c.WarmupEpochs, "warmup-epochs", c.WarmupEpochs, "linear warm-up length in epochs (at most a fifth of the run)")
	fs.StringVar(&c.Decay, "decay", c.Decay, "learning-rate decay after warm-up: cosine, step or constant")
	fs.Float64Var(&c.StepEpochs, "step-epochs", c.StepEpochs, "step decay: epochs between reductions")
	fs.Float64Var(&c.Gamma, "gamma", c.Gamma, "step decay: factor per reduction")
	fs.Float64Var(&c.MinLR, "min-lr", c.MinLR, "cosine decay: final learning rate")
	fs.Float64Var(&c.Momentum, "momentum", c.Momentum, "SGD momentum")
	fs.Float64Var(&c.WeightDecay, "weight-decay", c.WeightDecay, "L2 weight decay")
	fs.BoolVar(&c.Nesterov, "nesterov", c.Nesterov, "use Nesterov momentum")
	fs.BoolVar(&c.NoDecayNorm, "no-decay-norm", c.NoDecayNorm, "exempt batch-norm parameters and biases from weight decay")
	fs.StringVar(&c.Loss, "loss", c.Loss, "softmax (c-of-K targets 1/k on an image's k hashtags, Mahajan et al. 2018) or sigmoid (per-class BCE)")
	fs.StringVar(&c.Sampling, "sampling", c.Sampling, "image sampling: natural, or sqrt (hashtags drawn ∝ sqrt of their counts)")
	fs.Float64Var(&c.Noise, "noise", c.Noise, "label noise: replace each hashtag with probability p by one drawn from the tag distribution")
	fs.Float64Var(&c.Fraction, "fraction", 1, "train on this nested fraction of the train split, in (0, 1] (data-scale experiments)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the initialization, data order, augmentation and noise")
	fs.IntVar(&c.Workers, "workers", c.Workers, "image decoding goroutines (0: one per CPU)")
	fs.IntVar(&c.CheckpointEvery, "checkpoint-every", c.CheckpointEvery, "save a checkpoint every N optimizer steps (0: never by count)")
	fs.Float64Var(&c.CheckpointMinutes, "checkpoint-minutes", c.CheckpointMinutes, "save a checkpoint when this many minutes have passed since the last (0: never by time)")
	fs.IntVar(&c.Keep, "keep", c.Keep, "checkpoints to keep (0: all)")
	fs.IntVar(&c.EvalEvery, "eval-every", c.EvalEvery, "evaluate on the val split every N steps (0: every epoch; -1: only at the end)")
	fs.IntVar(&c.EvalImages, "eval-images", c.EvalImages, "held-out images per evaluation (0: the whole val split; the evaluator holds images × hashtags scores)")
	fs.BoolVar(&c.EvalAtStart, "eval-at-start", c.EvalAtStart, "also evaluate the untrained network, so the curves start at chance")
	fs.IntVar(&c.LogEvery, "log-every", c.LogEvery, "write a metrics row every N steps")
	fs.BoolVar(&c.NoPlots, "no-plots", c.NoPlots, "do not draw plots/*.png")
	fs.IntVar(&c.Threads, "threads", c.Threads, "libtorch CPU threads (0: libtorch's default, one per core)")
	fs.StringVar(&c.Device, "device", c.Device, "cpu, cuda or cuda:N")
	c.Precision.RegisterFlag(fs)
	fs.BoolVar(&c.ChannelsLast, "channels-last", c.ChannelsLast, "NHWC layout for convolutions (much faster on CPU)")
	fs.BoolVar(&c.ZeroInitLastBN, "zero-init-last-bn", c.ZeroInitLastBN, "start the last BN scale of each block at 0 (Goyal et al. 2017)")
	fs.BoolVar(&c.Resume, "resume", c.Resume, "continue from the newest checkpoint in --out (from step 0 when there is none; a rank that torchrun --max_restarts restarted resumes without it)")
	c.Dist.RegisterFlags(fs)
}

// Validate checks the values the flags cannot, naming the flag.
func (c Config) Validate() error {
	switch {
	case c.Shards == "":
		return errors.New("check flags: --shards is required")
	case c.Out == "":
		return errors.New("check flags: --out is required")
	case c.Batch < 1:
		return fmt.Errorf("check flags: --batch %d, want ≥ 1", c.Batch)
	case c.Accumulate < 1:
		return fmt.Errorf("check flags: --accumulate %d, want ≥ 1", c.Accumulate)
	case c.ImageSize < 8:
		return fmt.Errorf("check flags: --image-size %d, want ≥ 8", c.ImageSize)
	case c.Steps < 0 || c.Epochs < 0 || (c.Steps == 0 && c.Epochs == 0):
		return fmt.Errorf("check flags: --steps %d and --epochs %d, want one of them > 0", c.Steps, c.Epochs)
	case c.LR <= 0:
		return fmt.Errorf("check flags: --lr %v, want > 0", c.LR)
	case c.WarmupEpochs < 0 || c.StepEpochs < 0 || c.CheckpointMinutes < 0 || c.CheckpointEvery < 0 || c.Keep < 0:
		return errors.New("check flags: --warmup-epochs, --step-epochs, --checkpoint-every, --checkpoint-minutes and --keep must not be negative")
	case c.Fraction < 0 || c.Fraction > 1:
		return fmt.Errorf("check flags: --fraction %v, want in (0, 1]", c.Fraction)
	case c.Threads < 0 || c.Workers < 0 || c.EvalImages < 0:
		return errors.New("check flags: --threads, --workers and --eval-images must not be negative")
	case c.CacheDir != "" && !(c.CacheGB > 0):
		return fmt.Errorf("check flag --cache-gb: %v, want > 0 with --cache-dir", c.CacheGB)
	case storage.IsURL(c.CacheDir):
		return fmt.Errorf("check flag --cache-dir: %s is not a local directory", c.CacheDir)
	}
	for _, f := range []struct{ flag, loc string }{{"--shards", c.Shards}, {"--out", c.Out}} {
		if _, err := storage.ParseLocation(f.loc); err != nil {
			return fmt.Errorf("check flag %s: %w", f.flag, err)
		}
	}
	if _, err := nets.LookupArch(c.Arch); err != nil {
		return fmt.Errorf("check flag --arch: %w", err)
	}
	if _, err := nets.ParseBlock(c.Block); err != nil {
		return fmt.Errorf("check flag --block: %w", err)
	}
	if err := train.CheckLoss(c.Loss); err != nil {
		return fmt.Errorf("check flag --loss: %w", err)
	}
	if _, err := torch.ParseDevice(c.Device); err != nil {
		return fmt.Errorf("check flag --device: %w", err)
	}
	return c.Dist.Validate()
}

// Run runs Config: it builds the model from the seed, opens
// the shard loaders and hands them to Run.
func Run(ctx context.Context, c Config, log io.Writer) (*train.Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	arch, _ := nets.LookupArch(c.Arch)
	block, _ := nets.ParseBlock(c.Block)
	dev, _ := torch.ParseDevice(c.Device)
	if err := torch.Load(); err != nil {
		return nil, err
	}
	group, dev, err := c.Dist.Join(dev, log)
	if err != nil {
		return nil, err
	}
	defer group.CloseAll()
	if err := torch.CheckDevice(dev); err != nil {
		return nil, fmt.Errorf("check flag --device %s: %w", c.Device, err)
	}
	if c.Threads > 0 {
		if err := torch.SetNumThreads(c.Threads); err != nil {
			return nil, fmt.Errorf("set --threads %d: %w", c.Threads, err)
		}
	}
	if n := c.Dist.Restarts(); n > 0 && !c.Resume {
		// torchrun --max-restarts restarts the ranks with the same
		// command: they continue where the job's checkpoints stop.
		c.Resume = true
		if log != nil && (group == nil || group.Rank() == 0) {
			fmt.Fprintf(log, "pretrain: restart %d by the launcher: resuming from the newest checkpoint in %s\n", n, c.Out)
		}
	}
	par := c.Dist.Parallel(group)
	var resumed train.Precision
	if c.Resume {
		resumed, _ = train.CheckpointPrecision(c.Out)
	}
	prec, err := c.Precision.Resolve(dev, par, resumed, log, "pretrain")
	if err != nil {
		return nil, err
	}
	// The shards are read under a context of their own: a cancelled run
	// finishes its step (and the step every rank agreed on) before it
	// stops; each request has the storage layer's deadlines.
	rctx := context.WithoutCancel(ctx)
	sd, err := openShards(rctx, c)
	if err != nil {
		return nil, err
	}
	defer sd.Close()
	m, err := shards.ReadManifestIn(rctx, sd)
	if err != nil {
		return nil, fmt.Errorf("open --shards: %w", err)
	}
	if m.NumClasses < 1 {
		return nil, fmt.Errorf("open --shards %s: the vocabulary is empty", c.Shards)
	}
	if err := torch.ManualSeed(c.Seed); err != nil {
		return nil, err
	}
	model, err := nets.NewResNeXt(nets.Options{Arch: arch, NumClasses: m.NumClasses, Block: block,
		ZeroInitLastBN: c.ZeroInitLastBN, ChannelsLast: c.ChannelsLast, Device: dev})
	if err != nil {
		return nil, err
	}
	defer model.Close()

	lc := loader.Config{Split: shards.SplitTrain, Batch: c.Batch, ImageSize: c.ImageSize, Train: true, Seed: c.Seed,
		Sampling: c.Sampling, NoiseP: c.Noise, Targets: loader.TargetsNone, Workers: c.Workers, DropLast: true, Fraction: c.Fraction}
	data := train.Data{Train: func(part train.Part, resume *loader.Position) (train.Batches, error) {
		l := lc
		l.Rank, l.World, l.Resume = part.Rank, part.World, resume
		return loader.OpenIn(rctx, sd, l)
	}}
	if s, ok := m.Splits[shards.SplitVal]; ok && s.Rows > 0 {
		data.Val = func(part train.Part) (train.Batches, error) {
			return loader.OpenIn(rctx, sd, loader.Config{Split: shards.SplitVal, Batch: c.Batch, ImageSize: c.ImageSize,
				Seed: c.Seed, Targets: loader.TargetsNone, Workers: c.Workers, NoShuffle: true, Epochs: 1, Rank: part.Rank, World: part.World})
		}
	} else if log != nil {
		fmt.Fprintf(log, "pretrain: %s has no val split; no held-out evaluation\n", c.Shards)
	}
	cfg := train.Config{
		Out: c.Out, Storage: c.Storage, Label: "pretrain", Steps: c.Steps, Epochs: c.Epochs, Batch: c.Batch, Accumulate: c.Accumulate,
		Schedule:     train.Schedule{BaseLR: c.LR, Decay: c.Decay, Gamma: c.Gamma, MinLR: c.MinLR},
		WarmupEpochs: c.WarmupEpochs, StepEpochs: c.StepEpochs,
		Loss: c.Loss, Precision: prec,
		SGD:             train.SGDConfig{Momentum: c.Momentum, WeightDecay: c.WeightDecay, Nesterov: c.Nesterov, NoDecayNorm: c.NoDecayNorm},
		CheckpointEvery: c.CheckpointEvery, CheckpointInterval: time.Duration(c.CheckpointMinutes * float64(time.Minute)),
		Keep: c.Keep, EvalEvery: c.EvalEvery, EvalImages: c.EvalImages, EvalAtStart: c.EvalAtStart, LogEvery: c.LogEvery, Resume: c.Resume, NoPlots: c.NoPlots,
		Device: dev, Log: log, Parallel: par, AllRanksLog: c.Dist.AllRanksLog,
		Extra: map[string]any{"pretrain": c, "arch": arch.Name, "block": block.String(), "num_classes": m.NumClasses,
			"image_size": c.ImageSize, "seed": c.Seed, "tags": m.Tags},
	}
	res, err := train.Run(ctx, cfg, model, data)
	if err == nil && res.Eval != nil {
		err = reportTagAPs(rctx, c.Out, c.Storage, res.Eval, m.Tags, log)
	}
	if err == nil && !sd.IsLocal() && log != nil && (res.Rank == 0 || c.Dist.AllRanksLog) {
		st := sd.Stats()
		fmt.Fprintf(log, "pretrain: rank %d read %d bytes (%.1f MiB) of %s in %d requests (%d retried)\n",
			res.Rank, st.BytesRead, float64(st.BytesRead)/(1<<20), c.Shards, st.Requests, st.Retries)
	}
	switch {
	case errors.Is(err, train.ErrRunExists):
		return nil, fmt.Errorf("%w (pass --resume to continue it)", err)
	case errors.Is(err, context.Canceled) && log != nil:
		fmt.Fprintln(log, "pretrain: run the same command with --resume to continue")
	}
	return res, err
}
