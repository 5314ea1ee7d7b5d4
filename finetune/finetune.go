package finetune

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"weaksup/atomicfile"
	"weaksup/datasets"
	"weaksup/ddp"
	"weaksup/loader"
	"weaksup/nets"
	"weaksup/plot"
	"weaksup/torch"
	"weaksup/train"
)

// Modes of Run.
const (
	ModeFull   = "full"   // new head, every layer trained
	ModeLinear = "linear" // linear classifier on frozen, cached features
)

// How full mode starts its classifier (Config.Head).
const (
	HeadNew   = "new"   // randomly initialized
	HeadProbe = "probe" // a linear probe on the frozen features first (LP-FT, Kumar et al. 2022)
)

// Output files of Run, inside Config.Out.
const (
	ModelFile       = train.ModelFile // the final network, backbone and new head
	MetricsJSONFile = "metrics.json"  // val top-1/top-5/per-class (Metrics)
	ConfusionFile   = "confusion.png" // for at most MaxConfusionClasses classes
	FeaturesDir     = "features"      // linear: cached train/val features
	ProbeDir        = "probe"         // linear: the classifier's training run
)

// Config is one fine-tuning run. Zero values take the documented defaults,
// except WeightDecay, where 0 means none (the --weight-decay flag defaults
// to the paper's 1e-4).
type Config struct {
	Task    string           `json:"task"`
	Data    string           `json:"data"`
	Dataset datasets.Options `json:"dataset"`
	From    string           `json:"from"`  // weights (see ResolveFrom) or FromNone
	Arch    string           `json:"arch"`  // required with --from none
	Block   string           `json:"block"` // with --from none
	// Shortcut is "auto", "A" or "B" with --from none (see train.Shortcut).
	Shortcut string `json:"shortcut,omitempty"`
	Mode     string `json:"mode"` // ModeFull (default) or ModeLinear
	Out      string `json:"out"`

	ImageSize    int     `json:"image_size"` // 0: the pretraining size, else 224 (ImageNet stem) or 64 (small stem)
	Batch        int     `json:"batch"`      // default 64 (full), 256 (linear)
	Epochs       int     `json:"epochs"`     // default 10 (full), 100 (linear)
	LR           float64 `json:"lr"`         // base LR per 256 images; default 0.1 (full), 1.0 (linear)
	WarmupEpochs float64 `json:"warmup_epochs"`
	WeightDecay  float64 `json:"weight_decay"`
	// BackboneLRScale multiplies the learning rate of every layer but
	// the new head (full mode; 0 and 1: the same rate everywhere).
	BackboneLRScale float64 `json:"backbone_lr_scale,omitempty"`
	// Head is how full mode starts the new classifier: HeadNew (random,
	// the default) or HeadProbe (LP-FT: a linear probe trained first on
	// the frozen features, ProbeEpochs epochs at ProbeLR, defaults the
	// linear mode's).
	Head        string  `json:"head,omitempty"`
	ProbeEpochs int     `json:"probe_epochs,omitempty"`
	ProbeLR     float64 `json:"probe_lr,omitempty"`
	Nesterov    bool    `json:"nesterov"`
	// Search, when set, chooses LR among candidates on a part of the train
	// split carved out of it (the transfer protocol; --lr auto).
	Search *Search `json:"search,omitempty"`
	carve  float64 // --carve, applied to Search by fill
	// featuresDir, when set, caches the linear probe's features there
	// instead of under Out: the trials of a search share one cache.
	featuresDir string
	// CropScale is the smallest area fraction of the training random crop
	// (default 0.08, the ImageNet recipe); full mode only.
	CropScale float64 `json:"crop_scale"`
	Seed      uint64  `json:"seed"`
	Workers   int     `json:"workers"`
	// Resume continues the run in Out from its newest checkpoint (and, for
	// the linear probe, its cached features).
	Resume bool `json:"-"`
	// Device runs the network there (default CPU); DeviceName ("cpu",
	// "cuda", "cuda:N"), when set, overrides it.
	Device     torch.Device `json:"-"`
	DeviceName string       `json:"device,omitempty"`
	// Precision is the forward pass's arithmetic in fine-tuning, feature
	// extraction and evaluation ("" is fp32; the flag's default is auto).
	// The linear probe itself trains in fp32.
	Precision train.Precision `json:"precision,omitempty"`
	// Log receives progress bars and messages; nil discards them.
	Log io.Writer `json:"-"`
	// Dist trains data-parallel over the ranks a launcher started (full
	// mode), or splits the feature extraction across them (linear mode;
	// rank 0 then trains the probe). Zero values take the defaults.
	Dist ddp.Flags `json:"dist"`
}

// RegisterFlags adds the fine-tuning flags to fs, with defaults that work.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	c.registerCommon(fs)
	fs.StringVar(&c.Mode, "mode", ModeFull, "full: new head, train all layers; linear: linear classifier on frozen cached features")
	fs.StringVar(&c.Out, "out", "", "output directory: model.safetensors, finetune.json, metrics.json, checkpoints/ (required)")
	fs.StringVar(&c.Block, "block", "", "block design with --from none (default: the arch's own): "+strings.Join(nets.BlockNames(), ", "))
	fs.StringVar(&c.Shortcut, "shortcut", "auto", "with --from none, the shortcut where a block changes shape: A (zero padding; auto for basic-block nets such as resnet56, He et al.'s CIFAR choice) or B (1x1 projection; auto for bottlenecks)")
	fs.IntVar(&c.Batch, "batch", 0, "images per step (of each rank in data-parallel full mode) (0: 64 full, 256 linear)")
	fs.IntVar(&c.Epochs, "epochs", 0, "training epochs (0: 10 full, 100 linear)")
	c.registerSearch(fs)
	fs.Float64Var(&c.WarmupEpochs, "warmup-epochs", 0, "linear learning-rate warm-up, in epochs")
	fs.Float64Var(&c.WeightDecay, "weight-decay", 1e-4, "SGD weight decay")
	fs.Float64Var(&c.BackboneLRScale, "backbone-lr-scale", 1, "full mode: multiply the learning rate of every layer but the new head by this")
	fs.StringVar(&c.Head, "head", HeadNew, "full mode: new (a random classifier) or probe (LP-FT: train a linear probe on the frozen features first, then every layer)")
	fs.IntVar(&c.ProbeEpochs, "probe-epochs", 0, "with --head probe: epochs of the linear probe (0: 100)")
	fs.Float64Var(&c.ProbeLR, "probe-lr", 0, "with --head probe: learning rate of the linear probe (0: 1.0)")
	fs.BoolVar(&c.Nesterov, "nesterov", false, "Nesterov momentum")
	fs.Float64Var(&c.CropScale, "crop-scale", 0.08, "smallest area fraction of the random training crop")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the new head, data order and augmentation")
	fs.BoolVar(&c.Resume, "resume", false, "continue the run in --out from its newest checkpoint (a rank that torchrun --max_restarts restarted resumes without it)")
	c.Dist = ddp.DefaultFlags()
	c.Dist.RegisterFlags(fs)
}

// registerCommon adds the flags finetune and eval share.
func (c *Config) registerCommon(fs *flag.FlagSet) {
	fs.StringVar(&c.Task, "task", datasets.ImageFolder, "dataset layout: "+strings.Join(datasets.Layouts, ", "))
	fs.StringVar(&c.Data, "data", "", "dataset directory (required)")
	fs.StringVar(&c.From, "from", "", "weights: a checkpoint or run directory, a .safetensors file in torchvision naming, or none (required)")
	fs.StringVar(&c.Arch, "arch", "", "architecture (required with --from none; else read from the weights): tiny, small, or one of "+strings.Join(nets.ArchNames(), ", "))
	fs.IntVar(&c.ImageSize, "image-size", 0, "input image side (0: the size the weights were trained at, else 224, or 64 for small-stem nets)")
	fs.IntVar(&c.Workers, "workers", 0, "image decoding goroutines (0: one per CPU)")
	fs.StringVar(&c.DeviceName, "device", "cpu", "where the network runs: cpu, cuda or cuda:N")
	fs.StringVar(&c.Dataset.CIFAR100Labels, "cifar100-labels", datasets.CIFAR100FineLabels, "cifar100: fine (100 classes) or coarse (20 superclasses)")
	c.Precision.RegisterFlag(fs)
	fs.StringVar(&c.Dataset.ImageNetClassOrder, "imagenet-class-order", "", "ImageNet devkit labels: a file of wnids in ILSVRC2012_ID order, or 'folders' (default: synsets.txt beside the ground truth)")
}

// parseDevice sets Device from DeviceName.
func (c *Config) parseDevice() error {
	if c.DeviceName == "" {
		return nil
	}
	d, err := torch.ParseDevice(c.DeviceName)
	if err != nil {
		return fmt.Errorf("check config: --device: %w", err)
	}
	c.Device = d
	return nil
}

func (c *Config) fill() error {
	if err := c.parseDevice(); err != nil {
		return err
	}
	switch {
	case c.Data == "":
		return errors.New("check config: no --data directory")
	case c.Out == "":
		return errors.New("check config: no --out directory")
	case c.From == "":
		return errors.New("check config: no --from (a checkpoint, a .safetensors file or none)")
	}
	if c.Mode == "" {
		c.Mode = ModeFull
	}
	linear := c.Mode == ModeLinear
	if c.Mode != ModeFull && !linear {
		return fmt.Errorf("check config: --mode %q, want %s or %s", c.Mode, ModeFull, ModeLinear)
	}
	if c.Batch == 0 {
		c.Batch = pick(linear, 256, 64)
	}
	if c.Epochs == 0 {
		c.Epochs = pick(linear, 100, 10)
	}
	if c.LR == 0 {
		c.LR = pick(linear, 1.0, 0.1)
	}
	if c.CropScale == 0 {
		c.CropScale = 0.08
	}
	if c.Head == "" {
		c.Head = HeadNew
	}
	if c.Search != nil && c.carve != 0 {
		c.Search.Carve = c.carve
	}
	if c.Search != nil && (c.Search.Carve < 0 || c.Search.Carve >= 1) {
		return fmt.Errorf("check config: --carve %g, want in (0, 1)", c.Search.Carve)
	}
	if c.ProbeEpochs == 0 {
		c.ProbeEpochs = 100
	}
	if c.ProbeLR == 0 {
		c.ProbeLR = 1.0
	}
	switch {
	case c.Head != HeadNew && c.Head != HeadProbe:
		return fmt.Errorf("check config: --head %q, want %s or %s", c.Head, HeadNew, HeadProbe)
	case c.Head == HeadProbe && (linear || c.From == FromNone):
		return fmt.Errorf("check config: --head probe trains a probe on pretrained features first: it needs --mode full and --from weights")
	case c.BackboneLRScale < 0 || c.ProbeEpochs < 0 || c.ProbeLR < 0:
		return fmt.Errorf("check config: --backbone-lr-scale, --probe-epochs and --probe-lr must not be negative")
	}
	switch {
	case c.Batch < 1 || c.Epochs < 1 || c.LR < 0 || c.WeightDecay < 0 || c.WarmupEpochs < 0 || c.ImageSize < 0:
		return fmt.Errorf("check config: --batch %d, --epochs %d, --lr %g, --weight-decay %g, --warmup-epochs %g, --image-size %d: want positive values",
			c.Batch, c.Epochs, c.LR, c.WeightDecay, c.WarmupEpochs, c.ImageSize)
	case c.CropScale <= 0 || c.CropScale > 1:
		return fmt.Errorf("check config: --crop-scale %g, want in (0, 1]", c.CropScale)
	}
	d := ddp.DefaultFlags()
	if c.Dist.Timeout == 0 {
		c.Dist.Timeout = d.Timeout
	}
	if c.Dist.BucketMB == 0 {
		c.Dist.BucketMB = d.BucketMB
	}
	return c.Dist.Validate()
}

func pick[T any](cond bool, a, b T) T {
	if cond {
		return a
	}
	return b
}

// Result summarizes a finished run.
type Result struct {
	Metrics      Metrics // on the val split
	Model        string  // Out/model.safetensors
	Steps        int
	CachedFeats  bool    // linear: the features came from the cache
	TrainImagesS float64 // training images per second (full) or feature-extraction images per second (linear, 0 when cached)
	// Rank is this process's data-parallel rank; ranks other than 0 write
	// nothing and return no metrics.
	Rank int
	// LR is the learning rate of the final run: Config.LR, or the one the
	// search chose among Trials.
	LR     float64
	Trials []Trial
}

// Run fine-tunes (ModeFull) or linear-probes (ModeLinear) the network of
// cfg.From on the train split of the dataset, through train.Run, and
// evaluates the result on the val split. It writes into cfg.Out the final
// network (model.safetensors, torchvision naming, new head), finetune.json,
// metrics.json, confusion.png, and train.Run's checkpoints/, metrics.jsonl
// and plots/ (under probe/ for the linear probe, with the features under
// features/).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	ds, err := datasets.Open(cfg.Task, cfg.Data, cfg.Dataset)
	if err != nil {
		return nil, err
	}
	trainSplit, err := ds.Split(datasets.SplitTrain)
	if err != nil {
		return nil, err
	}
	valSplit, err := ds.Split(datasets.SplitVal)
	if err != nil {
		return nil, err
	}
	group, dev, err := cfg.Dist.Join(cfg.Device, cfg.Log)
	if err != nil {
		return nil, err
	}
	defer group.CloseAll()
	if err := torch.CheckDevice(dev); err != nil {
		return nil, fmt.Errorf("check flag --device %s: %w", cfg.DeviceName, err)
	}
	cfg.Device = dev
	rank := 0
	if group != nil {
		rank = group.Rank()
		if rank != 0 && !cfg.Dist.AllRanksLog {
			cfg.Log = nil
		}
	}
	if n := cfg.Dist.Restarts(); n > 0 && !cfg.Resume {
		cfg.Resume = true
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "finetune: restart %d by the launcher: resuming from the newest checkpoint in %s\n", n, cfg.Out)
		}
	}
	if !cfg.Resume {
		if dir, err := train.LatestCheckpoint(train.CheckpointsDir(runDir(cfg))); err == nil {
			return nil, fmt.Errorf("fine-tune into %s: %w (%s); pass --resume to continue it or choose another --out", cfg.Out, train.ErrRunExists, filepath.Base(dir))
		}
	}
	par := cfg.Dist.Parallel(group)
	// A resumed run computes as the interrupted one did. The linear
	// probe's own checkpoints are fp32 whatever the features' precision,
	// so the run records the precision it resolved in Out.
	var resumed train.Precision
	if cfg.Resume {
		resumed = readPrecision(cfg.Out)
	}
	prec, err := cfg.Precision.Resolve(cfg.Device, par, resumed, cfg.Log, "finetune")
	if err != nil {
		return nil, err
	}
	if rank == 0 {
		if err := writePrecision(cfg.Out, prec); err != nil {
			return nil, err
		}
	}
	s := &session{group: group, par: par, prec: prec, classes: ds.Classes()}
	var trials []Trial
	if cfg.Search != nil {
		if cfg.LR, trials, err = cfg.search(ctx, s, trainSplit); err != nil {
			return nil, err
		}
	}
	res, acc, m, weights, err := transfer(ctx, &cfg, s, trainSplit, valSplit)
	if errors.Is(err, context.Canceled) {
		logf(cfg.Log, "finetune: run the same command with --resume to continue\n")
	}
	if err != nil {
		return nil, err
	}
	defer m.Close()
	res.LR, res.Trials = cfg.LR, trials
	if rank != 0 {
		// Rank 0 scores the network and writes the outputs.
		res.Rank = rank
		return res, nil
	}
	res.Model = filepath.Join(cfg.Out, ModelFile)
	if err := m.Save(res.Model, map[string]string{"format": "weaksup finetune", "task": cfg.Task, "mode": cfg.Mode}); err != nil {
		return nil, fmt.Errorf("save fine-tuned model: %w", err)
	}
	if err := writeOutputs(cfg, res, acc, m, weights, ds.Classes(), datasets.SplitVal); err != nil {
		return nil, err
	}
	logf(cfg.Log, "finetune: val top-1 %.4f top-5 %.4f mean per-class %.4f (%d images); wrote %s\n",
		res.Metrics.Top1, res.Metrics.Top5, res.Metrics.MeanPerClass, res.Metrics.Images, cfg.Out)
	return res, nil
}

// writeOutputs fills res.Metrics from acc, the scores on split, and writes
// metrics.json, confusion.png and finetune.json into cfg.Out.
func writeOutputs(cfg Config, res *Result, acc *Accuracy, m *nets.ResNeXt, weights string, classes []datasets.Class, split string) error {
	res.Metrics = acc.Metrics(classes)
	res.Metrics.Task, res.Metrics.Data, res.Metrics.Split, res.Metrics.From, res.Metrics.Mode = cfg.Task, cfg.Data, split, cfg.From, cfg.Mode
	if err := writeReport(cfg.Out, &res.Metrics, classes); err != nil {
		return err
	}
	ri := RunInfo{Task: cfg.Task, Data: cfg.Data, Mode: cfg.Mode, From: cfg.From, Weights: weights,
		Arch: m.Options().Arch.Name, Block: m.Options().Block.String(), Shortcut: m.Options().Shortcut.String(), ImageSize: cfg.ImageSize, Classes: classes,
		Config: cfg, Top1: res.Metrics.Top1, Top5: res.Metrics.Top5, Steps: res.Steps, LR: cfg.LR, Trials: res.Trials}
	return writeJSON(filepath.Join(cfg.Out, RunInfoFile), ri)
}

// session is what the runs of one Run share: the process group (nil in
// one process), its train.Parallel, the resolved precision and the
// task's classes.
type session struct {
	group   *torch.Group
	par     train.Parallel
	prec    train.Precision
	classes []datasets.Class
}

// transfer builds the network of cfg.From with a head of s.classes and
// trains it in cfg.Mode on trainSplit, scoring it on valSplit. It returns
// the network (the caller closes it) and the weights file it came from;
// ranks other than 0 get no accuracy.
//
// It sets cfg.ImageSize when it is 0.
func transfer(ctx context.Context, cfg *Config, s *session, trainSplit, valSplit datasets.Split) (*Result, *Accuracy, *nets.ResNeXt, string, error) {
	k := len(s.classes)
	m, weights, err := NewModel(ModelConfig{From: cfg.From, Arch: cfg.Arch, Block: cfg.Block, Shortcut: cfg.Shortcut, Classes: k, Seed: cfg.Seed, Device: cfg.Device})
	if err != nil {
		return nil, nil, nil, "", err
	}
	if cfg.ImageSize == 0 {
		cfg.ImageSize = savedImageSize(weights)
	}
	if cfg.ImageSize == 0 {
		cfg.ImageSize = defaultImageSize(m.Options().Arch, cfg.Task)
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		m.Close()
		return nil, nil, nil, "", fmt.Errorf("fine-tune: %w", err)
	}
	logf(cfg.Log, "finetune: %s %s, %d classes, %d train / %d val images; %s from %s, %d px, learning rate %g\n",
		cfg.Mode, cfg.Task, k, trainSplit.Len(), valSplit.Len(), m.Options().Arch.Name, cfg.From, cfg.ImageSize, cfg.LR)
	var res *Result
	var acc *Accuracy
	switch {
	case cfg.Mode == ModeLinear:
		res, acc, err = runLinear(ctx, *cfg, s.group, m, weights, trainSplit, valSplit, k, s.prec)
	case cfg.Head == HeadProbe:
		res, acc, err = runProbeThenFull(ctx, *cfg, s.group, s.par, m, weights, trainSplit, valSplit, k, s.prec)
	default:
		res, acc, err = runFull(ctx, *cfg, s.par, m, trainSplit, valSplit, k, s.prec)
	}
	if err != nil {
		m.Close()
		return nil, nil, nil, "", err
	}
	return res, acc, m, weights, nil
}

// PrecisionFile records, in a run's Out, the precision it resolved.
const PrecisionFile = "precision"

// readPrecision returns the precision recorded in out ("" when none).
func readPrecision(out string) train.Precision {
	b, err := os.ReadFile(filepath.Join(out, PrecisionFile))
	if err != nil {
		return ""
	}
	var p train.Precision
	if p.Set(strings.TrimSpace(string(b))) != nil || p == train.PrecisionAuto {
		return ""
	}
	return p
}

func writePrecision(out string, p train.Precision) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("record the precision: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(out, PrecisionFile), []byte(string(p)+"\n"))
}

// features is where the linear probe caches its features.
func (cfg Config) features() string {
	if cfg.featuresDir != "" {
		return cfg.featuresDir
	}
	return filepath.Join(cfg.Out, FeaturesDir)
}

// runDir is where train.Run keeps checkpoints for the mode.
func runDir(cfg Config) string {
	if cfg.Mode == ModeLinear {
		return filepath.Join(cfg.Out, ProbeDir)
	}
	return cfg.Out
}

func (cfg Config) trainConfig(label string, out string) train.Config {
	return train.Config{
		Out: out, Label: label, Epochs: cfg.Epochs, Batch: cfg.Batch,
		Schedule:     train.Schedule{BaseLR: cfg.LR, Decay: train.DecayCosine},
		WarmupEpochs: cfg.WarmupEpochs,
		SGD:          train.SGDConfig{Momentum: 0.9, WeightDecay: cfg.WeightDecay, Nesterov: cfg.Nesterov, BackboneLRScale: cfg.BackboneLRScale},
		Keep:         2, CheckpointInterval: 10 * time.Minute, Resume: cfg.Resume, Device: cfg.Device, Log: cfg.Log,
		Extra: map[string]any{"task": cfg.Task, "data": cfg.Data, "mode": cfg.Mode, "from": cfg.From, "image_size": cfg.ImageSize, "seed": cfg.Seed},
	}
}

// runFull trains every layer of m through train.Run on augmented batches
// of the train images, evaluating on val each epoch.
func runFull(ctx context.Context, cfg Config, par train.Parallel, m *nets.ResNeXt, trainSplit, valSplit datasets.Split, k int, prec train.Precision) (*Result, *Accuracy, error) {
	trainSrc, err := loader.NewSplitSource(trainSplit, k)
	if err != nil {
		return nil, nil, fmt.Errorf("fine-tune: %w", err)
	}
	valSrc, err := loader.NewSplitSource(valSplit, k)
	if err != nil {
		return nil, nil, fmt.Errorf("fine-tune: %w", err)
	}
	batch := min(cfg.Batch, trainSplit.Len())
	tf, evalTf := Transforms(cfg.Task, cfg.ImageSize, cfg.CropScale)
	data := train.Data{
		Train: func(part train.Part, resume *loader.Position) (train.Batches, error) {
			return loader.New(trainSrc, loader.Config{Batch: batch, ImageSize: cfg.ImageSize, Train: true,
				Seed: cfg.Seed, Targets: loader.TargetsNone, DropLast: true, Workers: cfg.Workers, Transform: &tf, Resume: resume,
				Rank: part.Rank, World: part.World})
		},
		Val: func(part train.Part) (train.Batches, error) {
			return loader.New(valSrc, loader.Config{Batch: min(cfg.Batch, valSplit.Len()), ImageSize: cfg.ImageSize,
				NoShuffle: true, Targets: loader.TargetsNone, Epochs: 1, Workers: cfg.Workers, Transform: &evalTf,
				Rank: part.Rank, World: part.World})
		},
	}
	tc := cfg.trainConfig("finetune", cfg.Out)
	tc.Batch = batch
	o := m.Options()
	tc.Extra["arch"], tc.Extra["block"], tc.Extra["shortcut"] = o.Arch.Name, o.Block.String(), o.Shortcut.String()
	tc.Precision = prec
	tc.Parallel, tc.AllRanksLog = par, cfg.Dist.AllRanksLog
	tr, err := train.Run(ctx, tc, m, data)
	if err != nil {
		return nil, nil, err
	}
	if tr.Rank != 0 {
		return &Result{Steps: tr.Steps}, nil, nil
	}
	acc, err := Score(ctx, m, valSplit, k, ExtractOptions{ImageSize: cfg.ImageSize, Batch: cfg.Batch, Workers: cfg.Workers,
		Device: cfg.Device, Precision: prec, Log: cfg.Log, Label: "eval val", Transform: &evalTf})
	if err != nil {
		return nil, nil, err
	}
	return &Result{Steps: tr.Steps, TrainImagesS: tr.ImagesPerS}, acc, nil
}

// runProbeThenFull is LP-FT: a linear probe on the frozen features of
// the train split (in Out/lp) becomes the head that full fine-tuning
// starts from.
func runProbeThenFull(ctx context.Context, cfg Config, group *torch.Group, par train.Parallel, m *nets.ResNeXt, weights string,
	trainSplit, valSplit datasets.Split, k int, prec train.Precision) (*Result, *Accuracy, error) {
	lp := cfg
	lp.Mode, lp.Out, lp.Epochs, lp.LR, lp.Batch = ModeLinear, filepath.Join(cfg.Out, "lp"), cfg.ProbeEpochs, cfg.ProbeLR, 256
	logf(cfg.Log, "finetune: LP-FT: a linear probe first (%d epochs at %g) in %s\n", lp.Epochs, lp.LR, lp.Out)
	if _, _, err := runLinear(ctx, lp, group, m, weights, trainSplit, valSplit, k, prec); err != nil {
		return nil, nil, fmt.Errorf("LP-FT: linear probe: %w", err)
	}
	if group != nil {
		// Rank 0 trained the probe: every rank starts from its head.
		if err := torch.NoGrad(func() error { return group.Broadcast(m.Head(), 0, 1<<28) }); err != nil {
			return nil, nil, fmt.Errorf("LP-FT: share the probe: %w", err)
		}
	}
	return runFull(ctx, cfg, par, m, trainSplit, valSplit, k, prec)
}

// runLinear computes (or reuses) the frozen features of both splits, trains
// a linear probe on them through train.Run, and folds it into m's head.
func runLinear(ctx context.Context, cfg Config, group *torch.Group, m *nets.ResNeXt, weights string, trainSplit, valSplit datasets.Split, k int, prec train.Precision) (*Result, *Accuracy, error) {
	arch := m.Options().Arch.Name + "/" + m.Options().Block.String()
	_, evalTf := Transforms(cfg.Task, cfg.ImageSize, 0)
	if prec != train.PrecisionFP32 {
		arch += "/" + string(prec) // features depend on it; fp32 keys stay as they were
	}
	eo := ExtractOptions{ImageSize: cfg.ImageSize, Batch: 64, Workers: cfg.Workers, Device: cfg.Device, Precision: prec, Log: cfg.Log, Transform: &evalTf}
	res := &Result{CachedFeats: true}
	feats := map[string]*Features{}
	for _, sp := range []struct {
		name  string
		split datasets.Split
	}{{datasets.SplitTrain, trainSplit}, {datasets.SplitVal, valSplit}} {
		key, err := FeatureKey(weights, cfg.Seed, arch, cfg.ImageSize, sp.split)
		if err != nil {
			return nil, nil, err
		}
		t0 := now()
		f, cached, err := cachedFeaturesParts(ctx, group, cfg.features(), sp.name, key, m, sp.split, k, eo)
		if err != nil {
			return nil, nil, err
		}
		if f == nil {
			continue // a rank other than 0: its part is with rank 0
		}
		if !cached {
			res.CachedFeats = false
			if sp.name == datasets.SplitTrain {
				res.TrainImagesS = float64(sp.split.Len()) / now().Sub(t0).Seconds()
			}
		}
		feats[sp.name] = f
	}
	if group != nil && group.Rank() != 0 {
		return res, nil, nil // rank 0 trains the probe on everyone's features
	}
	probe, err := NewLinearProbe(feats[datasets.SplitTrain])
	if err != nil {
		return nil, nil, err
	}
	defer probe.Close()
	trainStd, valStd := feats[datasets.SplitTrain], feats[datasets.SplitVal]
	probe.Standardize(trainStd)
	probe.Standardize(valStd)
	batch := min(cfg.Batch, trainStd.Len())
	tc := cfg.trainConfig("linear probe", filepath.Join(cfg.Out, ProbeDir))
	tc.Batch = batch
	perEpoch := trainStd.Len() / batch
	tc.EvalEvery = max(1, cfg.Epochs*perEpoch/5) // evaluating (and checkpointing) every epoch would dominate
	tc.Device = torch.CPU                        // and fp32: one small matrix product per step
	data := train.Data{
		Train: func(_ train.Part, resume *loader.Position) (train.Batches, error) {
			return newFeatureBatches(probe, trainStd, batch, cfg.Seed, true, resume)
		},
		Val: func(train.Part) (train.Batches, error) {
			return newFeatureBatches(probe, valStd, cfg.Batch, cfg.Seed, false, nil)
		},
	}
	tr, err := train.Run(ctx, tc, probe, data)
	if err != nil {
		return nil, nil, err
	}
	res.Steps = tr.Steps
	if err := probe.FoldInto(m); err != nil {
		return nil, nil, err
	}
	scores, err := probe.Scores(valStd)
	if err != nil {
		return nil, nil, err
	}
	acc := NewAccuracy(k)
	if err := acc.Add(scores, feats[datasets.SplitVal].Labels); err != nil {
		return nil, nil, err
	}
	return res, acc, nil
}

// writeReport writes metrics.json and, for at most MaxConfusionClasses
// classes, confusion.png into dir.
func writeReport(dir string, m *Metrics, classes []datasets.Class) error {
	if m.Classes <= MaxConfusionClasses {
		names := make([]string, len(classes))
		for i, c := range classes {
			names[i] = c.Name
		}
		title := fmt.Sprintf("%s %s: top-1 %.1f%%, %d images", m.Task, m.Split, 100*m.Top1, m.Images)
		if err := (plot.ConfusionMatrix{Counts: m.Confusion, Names: names, Title: title}).Save(filepath.Join(dir, ConfusionFile)); err != nil {
			return err
		}
		m.Plot = ConfusionFile
	}
	return WriteMetrics(filepath.Join(dir, MetricsJSONFile), m)
}

func writeJSON(path string, v any) error {
	b, err := jsonIndent(v)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, b); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format, args...)
	}
}
