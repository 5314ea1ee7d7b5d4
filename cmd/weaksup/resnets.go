package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"weaksup/datasets"
	"weaksup/experiment"
	"weaksup/torch"
)

const resnetsCommon = `Every net trains from scratch on CIFAR-10 or CIFAR-100 in its binary layout
(--task, --data), or, without --data, on a generated stand-in in the exact
CIFAR-10 format (ten shape classes: 'weaksup experiment depth --help' says
what it is), written to --workdir/data. The default schedule is He et al.'s:
SGD, momentum 0.9, weight decay 1e-4, batch 128, learning rate 0.1 divided
by 10 at 32k and 48k iterations, 64k in all; 4-pixel padding, random crops
and flips. After each epoch the training error (on --eval-train training
images, no augmentation) and the test error are measured. Each net runs in
--workdir/<experiment>/<net>/ and resumes; a diverged net is recorded as
such and not run again. --quick runs a tiny version in seconds.`

const depthHelp = `The degradation experiment of He et al. (CVPR 2016, Fig. 6): plain-n and
ResNet-n (6n+2 layers, basic blocks of 16/32/64 channels; option-A
shortcuts unless --shortcut B) at each of --depths, training error (dashed)
and test error (solid) against epochs. Plain nets degrade with depth —
plain-56 trains to a higher error than plain-20 — and ResNets do not.
Writes depth.md, depth.json, plots/depth.png, depth_plain.png and
depth_resnet.png.

` + resnetsCommon + `

The stand-in: 32x32 images of one anti-aliased shape each (disk, ring,
square, frame, triangle, plus, cross, striped disks, checkered square) at a
random position, size, rotation and color over a random gradient, with
distractor blobs and pixel noise; --standin-train/--standin-test images
(50,000/10,000 like CIFAR-10).

Examples:
  weaksup experiment depth --quick
  weaksup experiment depth --task cifar10 --data /data/cifar-10-batches-bin
  weaksup experiment depth --standin-train 5000 --epochs 10 --depths 20,56`

const initHelp = `Deep networks without batch norm (De & Smith 2020; He et al. ICCV 2015):
at each of --depths (6n+2 layers, basic blocks), residual nets with SkipInit
(a learnable alpha scaling each branch, starting at 0 or at 1/sqrt(d) for d
blocks), the same without SkipInit, and plain nets initialized with MSRA
(std sqrt(2/fan)) or Xavier: which train, which diverge (the loss becomes
NaN or infinite), which stall at chance. Writes init.md (a variant × depth
table), init.json, plots/init_<depth>.png (training loss against steps) and
plots/init_error.png. Variants: skipinit0, skipinit-invsqrt, nonorm,
plain-msra, plain-xavier, and batchnorm (the ResNet, for reference).

` + resnetsCommon + `

Examples:
  weaksup experiment init --quick
  weaksup experiment init --task cifar10 --data /data/cifar-10-batches-bin --depths 20,110,1202`

const widthHelp = `ResNeXt's comparison at a fixed budget (Xie et al., CVPR 2017, Table 3):
bottleneck nets of one depth (--layers blocks per stage, --planes) whose
grouped 3x3 convs have C groups (--cardinalities) of d channels, d chosen
so each net has about the parameters of the C = 1, d = --base-width net
(at ResNet-50's budget the paper's 1x64d, 2x40d, 4x24d, 8x14d, 32x4d).
Writes width.md (C, d, params, multiply-adds, errors), width.json and
plots/width.png.

` + resnetsCommon + `

Examples:
  weaksup experiment width --quick
  weaksup experiment width --task cifar10 --data /data/cifar-10-batches-bin`

// resnetFlags are the flags the residual-network experiments share.
type resnetFlags struct {
	workdir        string
	task, data     string
	cifar100Labels string
	standinTrain   int
	standinTest    int
	quick          bool
	batch          int
	lr             float64
	momentum, wd   float64
	steps, epochs  int
	milestones     string
	warmup         int
	trainImages    int
	testImages     int
	evalTrain      int
	seed           uint64
	workers        int
	threads        int
	device         string
}

func (f *resnetFlags) register(fs *flag.FlagSet, name string) {
	rc := experiment.PaperRecipe()
	fs.StringVar(&f.workdir, "workdir", name+"-experiment", "directory for the data, every run, the table and the plots")
	fs.StringVar(&f.task, "task", datasets.CIFAR10, "dataset layout with --data: cifar10 or cifar100")
	fs.StringVar(&f.data, "data", "", "CIFAR folder (cifar-10-batches-bin, cifar-100-binary, or the folder holding it); empty: the generated stand-in")
	fs.StringVar(&f.cifar100Labels, "cifar100-labels", datasets.CIFAR100FineLabels, "cifar100: fine or coarse labels")
	fs.IntVar(&f.standinTrain, "standin-train", 50000, "training images of the generated stand-in")
	fs.IntVar(&f.standinTest, "standin-test", 10000, "test images of the generated stand-in")
	fs.BoolVar(&f.quick, "quick", false, "a tiny version in seconds: the smallest nets, 160 stand-in images, 2 epochs of batch 32")
	fs.IntVar(&f.batch, "batch", rc.Batch, "images per step")
	fs.Float64Var(&f.lr, "lr", rc.LR, "learning rate at --batch")
	fs.Float64Var(&f.momentum, "momentum", rc.Momentum, "SGD momentum")
	fs.Float64Var(&f.wd, "weight-decay", rc.WeightDecay, "weight decay")
	fs.IntVar(&f.steps, "steps", rc.Steps, "steps per net (ignored with --epochs)")
	fs.IntVar(&f.epochs, "epochs", 0, "epochs per net instead of --steps; the learning rate then drops at 1/2 and 3/4 of the run unless --milestones is given")
	fs.StringVar(&f.milestones, "milestones", "32000,48000", "steps at which the learning rate is divided by 10")
	fs.IntVar(&f.warmup, "warmup-steps", 0, "linear learning-rate warm-up (He et al. warm ResNet-110 up at 0.01 for about 400 steps)")
	fs.IntVar(&f.trainImages, "train-images", 0, "train on the first N training images only (0: all)")
	fs.IntVar(&f.testImages, "test-images", 0, "test on the first N test images only (0: all)")
	fs.IntVar(&f.evalTrain, "eval-train", rc.EvalTrain, "training images the training error is measured on after each epoch (0: all)")
	fs.Uint64Var(&f.seed, "seed", rc.Seed, "seed of the initialization, data order, augmentation and stand-in")
	fs.IntVar(&f.workers, "workers", 0, "data-loading goroutines (0: one per CPU)")
	fs.IntVar(&f.threads, "threads", 0, "libtorch CPU threads (0: one per core)")
	fs.StringVar(&f.device, "device", "cpu", "cpu, cuda or cuda:N")
}

// applyQuick sets the quick values of the flags the command line did not
// set.
func (f *resnetFlags) applyQuick(fs *flag.FlagSet) {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if !f.quick {
		if f.epochs > 0 && !set["milestones"] {
			f.milestones = ""
		}
		return
	}
	for name, v := range map[string]string{"standin-train": "160", "standin-test": "64", "batch": "32", "epochs": "2",
		"milestones": "", "eval-train": "64"} {
		if !set[name] {
			fs.Set(name, v)
		}
	}
}

func (f *resnetFlags) recipe() (experiment.Recipe, error) {
	rc := experiment.PaperRecipe()
	rc.Batch, rc.LR, rc.Momentum, rc.WeightDecay = f.batch, f.lr, f.momentum, f.wd
	rc.Steps, rc.Epochs, rc.WarmupSteps = f.steps, f.epochs, f.warmup
	rc.TrainImages, rc.TestImages, rc.EvalTrain, rc.Seed, rc.Workers = f.trainImages, f.testImages, f.evalTrain, f.seed, f.workers
	rc.Milestones = nil
	if f.milestones != "" {
		for _, s := range strings.Split(f.milestones, ",") {
			m, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || m < 1 {
				return rc, fmt.Errorf("flag --milestones: %q is not a step ≥ 1", s)
			}
			rc.Milestones = append(rc.Milestones, m)
		}
	} else if f.epochs > 0 {
		rc.MilestoneFractions = []float64{0.5, 0.75}
	}
	switch {
	case rc.Batch < 1:
		return rc, fmt.Errorf("flag --batch: %d, want ≥ 1", rc.Batch)
	case rc.LR <= 0:
		return rc, fmt.Errorf("flag --lr: %v, want > 0", rc.LR)
	case rc.Steps < 1 && rc.Epochs < 1:
		return rc, fmt.Errorf("flags --steps %d and --epochs %d: want one of them ≥ 1", rc.Steps, rc.Epochs)
	case rc.TrainImages < 0 || rc.TestImages < 0 || rc.EvalTrain < 0 || rc.WarmupSteps < 0 || rc.Epochs < 0:
		return rc, fmt.Errorf("flags --train-images, --test-images, --eval-train, --warmup-steps and --epochs must not be negative")
	}
	return rc, nil
}

// open returns the data: --data, or the stand-in generated in the workdir.
func (f *resnetFlags) open(env Env) (*experiment.CIFARData, error) {
	if f.data != "" {
		return experiment.OpenCIFARData(f.task, f.data, datasets.Options{CIFAR100Labels: f.cifar100Labels})
	}
	cfg := experiment.StandInConfig{Train: f.standinTrain, Test: f.standinTest, Seed: f.seed}
	fmt.Fprintf(env.Stderr, "data: the CIFAR-10-format stand-in (%d training, %d test images, seed %d) in %s, generated on the first run\n",
		cfg.Train, cfg.Test, cfg.Seed, filepath.Join(f.workdir, "data"))
	dir, err := experiment.GenerateStandIn(filepath.Join(f.workdir, "data"), cfg)
	if err != nil {
		return nil, err
	}
	d, err := experiment.OpenCIFARData(datasets.CIFAR10, dir, datasets.Options{})
	if err != nil {
		return nil, err
	}
	d.About = fmt.Sprintf("the generated CIFAR-10-format stand-in (ten shape classes; %d training, %d test images; seed %d) in %s",
		cfg.Train, cfg.Test, cfg.Seed, dir)
	d.Short = "the CIFAR-10 stand-in"
	return d, nil
}

func parseInts(name, list string) ([]int, error) {
	var out []int
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("flag --%s: %q is not a positive integer", name, s)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("flag --%s: no values", name)
	}
	return out, nil
}

func splitList(list string) []string {
	var out []string
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// runResNetExperiment runs `weaksup experiment depth|init|width`.
func runResNetExperiment(ctx context.Context, env Env, name string, args []string) error {
	help := map[string]string{"depth": depthHelp, "init": initHelp, "width": widthHelp}[name]
	fs := env.flagSet("experiment "+name, "experiment "+name+" [--quick] [--task cifar10|cifar100 --data DIR] [flags]", help)
	var f resnetFlags
	f.register(fs, name)
	var depths, families, shortcut, variants, cards, layers, planes *string
	var baseWidth, stemWidth *int
	switch name {
	case "depth":
		depths = fs.String("depths", "20,32,44,56,110", "depths, 6n+2 (quick: 8,14)")
		families = fs.String("families", "plain,resnet", "plain and/or resnet")
		shortcut = fs.String("shortcut", "A", "ResNet shortcut where the shape changes: A (zero padding, the paper's CIFAR choice) or B (projection)")
	case "init":
		depths = fs.String("depths", "20,110,1202", "depths, 6n+2 (quick: 8)")
		variants = fs.String("variants", strings.Join(experiment.DefaultInitVariants, ","), "variants: skipinit0, skipinit-invsqrt, nonorm, plain-msra, plain-xavier, batchnorm")
	case "width":
		cards = fs.String("cardinalities", "1,2,4,8,32", "cardinalities C (quick: 1,2,4)")
		baseWidth = fs.Int("base-width", 64, "width per group d of the C = 1 net, which sets the budget (quick: 16)")
		layers = fs.String("layers", "3,3,3", "blocks per stage (quick: 1,1,1)")
		planes = fs.String("planes", "64,128,256", "bottleneck planes per stage (quick: 16,32,64)")
		stemWidth = fs.Int("stem-width", 64, "channels of the stem conv (quick: 16)")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (see --help)", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if f.quick {
		quick := map[string]string{"depths": map[string]string{"depth": "8,14", "init": "8"}[name],
			"cardinalities": "1,2,4", "base-width": "16", "layers": "1,1,1", "planes": "16,32,64", "stem-width": "16"}
		for k, v := range quick {
			if fs.Lookup(k) != nil && !set[k] {
				fs.Set(k, v)
			}
		}
	}
	f.applyQuick(fs)
	var err error
	if f.workdir, err = filepath.Abs(f.workdir); err != nil {
		return fmt.Errorf("flag --workdir: %w", err)
	}
	rc, err := f.recipe()
	if err != nil {
		return err
	}
	dev, err := torch.ParseDevice(f.device)
	if err != nil {
		return fmt.Errorf("flag --device: %w", err)
	}
	// Check the lists before generating or reading any data.
	var run func(data *experiment.CIFARData) (*experiment.CIFARReport, error)
	switch name {
	case "depth":
		ds, err := parseInts("depths", *depths)
		if err != nil {
			return err
		}
		fams := splitList(*families)
		if _, err := experiment.DepthNets(fams, ds, *shortcut); err != nil {
			return fmt.Errorf("flags --depths, --families, --shortcut: %w", err)
		}
		run = func(data *experiment.CIFARData) (*experiment.CIFARReport, error) {
			return experiment.RunDepth(ctx, experiment.DepthConfig{Workdir: f.workdir, Data: data, Depths: ds,
				Families: fams, Shortcut: *shortcut, Recipe: rc, Device: dev, Log: env.Stderr})
		}
	case "init":
		ds, err := parseInts("depths", *depths)
		if err != nil {
			return err
		}
		vs := splitList(*variants)
		if _, err := experiment.InitNets(vs, ds); err != nil {
			return fmt.Errorf("flags --depths, --variants: %w", err)
		}
		run = func(data *experiment.CIFARData) (*experiment.CIFARReport, error) {
			return experiment.RunInit(ctx, experiment.InitConfig{Workdir: f.workdir, Data: data, Depths: ds,
				Variants: vs, Recipe: rc, Device: dev, Log: env.Stderr})
		}
	case "width":
		cs, err := parseInts("cardinalities", *cards)
		if err != nil {
			return err
		}
		ls, err := parseInts("layers", *layers)
		if err != nil {
			return err
		}
		ps, err := parseInts("planes", *planes)
		if err != nil {
			return err
		}
		if len(ls) != len(ps) {
			return fmt.Errorf("flags --layers and --planes: %d stages and %d plane counts", len(ls), len(ps))
		}
		wc := experiment.WidthConfig{Workdir: f.workdir, Cardinalities: cs, BaseWidth: *baseWidth, Layers: ls, Planes: ps,
			StemWidth: *stemWidth, Recipe: rc, Device: dev, Log: env.Stderr}
		if _, err := experiment.WidthNets(wc, 10); err != nil {
			return fmt.Errorf("flags --cardinalities, --base-width, --layers, --planes: %w", err)
		}
		run = func(data *experiment.CIFARData) (*experiment.CIFARReport, error) {
			wc.Data = data
			return experiment.RunWidth(ctx, wc)
		}
	}
	if err := torch.Load(); err != nil {
		return err
	}
	if f.threads > 0 {
		if err := torch.SetNumThreads(f.threads); err != nil {
			return fmt.Errorf("flag --threads %d: %w", f.threads, err)
		}
	}
	data, err := f.open(env)
	if err != nil {
		return err
	}
	rep, err := run(data)
	if err != nil {
		return err
	}
	for _, line := range rep.Findings {
		fmt.Fprintln(env.Stdout, line)
	}
	fmt.Fprintf(env.Stdout, "table: %s\n", filepath.Join(f.workdir, name+".md"))
	for _, p := range rep.Plots {
		fmt.Fprintf(env.Stdout, "plot:  %s\n", filepath.Join(f.workdir, p))
	}
	return nil
}
