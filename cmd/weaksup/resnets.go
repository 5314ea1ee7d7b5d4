package main

import (
	"flag"
	"fmt"
	"path/filepath"

	"weaksup/datasets"
	"weaksup/internal/listflag"
	"weaksup/resnets"
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
	milestones     listflag.Value[int]
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
	rc := resnets.PaperRecipe()
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
	f.milestones = listflag.Value[int](rc.Milestones)
	fs.Var(&f.milestones, "milestones", "comma-separated `list` of steps at which the learning rate is divided by 10 (none with --epochs: then at 1/2 and 3/4 of the run)")
	fs.IntVar(&f.warmup, "warmup-steps", 0, "linear learning-rate warm-up (He et al. warm ResNet-110 up at 0.01 for about 400 steps)")
	fs.IntVar(&f.trainImages, "train-images", 0, "train on the first N training images only (0: all)")
	fs.IntVar(&f.testImages, "test-images", 0, "test on the first N test images only (0: all)")
	fs.IntVar(&f.evalTrain, "eval-train", rc.EvalTrain, "training images the training error is measured on after each epoch (0: all)")
	fs.Uint64Var(&f.seed, "seed", rc.Seed, "seed of the initialization, data order, augmentation and stand-in")
	fs.IntVar(&f.workers, "workers", 0, "data-loading goroutines (0: one per CPU)")
	fs.IntVar(&f.threads, "threads", 0, "libtorch CPU threads (0: one per core)")
	fs.StringVar(&f.device, "device", "cpu", "cpu, cuda or cuda:N")
}

// applyQuick sets, for --quick, the quick values of the flags the
// command line did not set: the shared ones and an experiment's own.
func (f *resnetFlags) applyQuick(fs *flag.FlagSet, own map[string]string) {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if !f.quick {
		if f.epochs > 0 && !set["milestones"] {
			f.milestones = nil
		}
		return
	}
	for name, v := range map[string]string{"standin-train": "160", "standin-test": "64", "batch": "32", "epochs": "2", "eval-train": "64"} {
		own[name] = v
	}
	for name, v := range own {
		if !set[name] {
			fs.Set(name, v)
		}
	}
	if !set["milestones"] {
		f.milestones = nil
	}
}

func (f *resnetFlags) recipe() (resnets.Recipe, error) {
	rc := resnets.PaperRecipe()
	rc.Batch, rc.LR, rc.Momentum, rc.WeightDecay = f.batch, f.lr, f.momentum, f.wd
	rc.Steps, rc.Epochs, rc.WarmupSteps = f.steps, f.epochs, f.warmup
	rc.TrainImages, rc.TestImages, rc.EvalTrain, rc.Seed, rc.Workers = f.trainImages, f.testImages, f.evalTrain, f.seed, f.workers
	rc.Milestones = f.milestones
	if len(rc.Milestones) == 0 && f.epochs > 0 {
		rc.MilestoneFractions = []float64{0.5, 0.75}
	}
	for _, m := range rc.Milestones {
		if m < 1 {
			return rc, fmt.Errorf("flag --milestones: %d is not a step ≥ 1", m)
		}
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
func (f *resnetFlags) open(env Env) (*resnets.Data, error) {
	if f.data != "" {
		return resnets.OpenData(f.task, f.data, datasets.Options{CIFAR100Labels: f.cifar100Labels})
	}
	cfg := resnets.StandInConfig{Train: f.standinTrain, Test: f.standinTest, Seed: f.seed}
	fmt.Fprintf(env.Stderr, "data: the CIFAR-10-format stand-in (%d training, %d test images, seed %d) in %s, generated on the first run\n",
		cfg.Train, cfg.Test, cfg.Seed, filepath.Join(f.workdir, "data"))
	dir, err := resnets.GenerateStandIn(filepath.Join(f.workdir, "data"), cfg)
	if err != nil {
		return nil, err
	}
	d, err := resnets.OpenData(datasets.CIFAR10, dir, datasets.Options{})
	if err != nil {
		return nil, err
	}
	d.About = fmt.Sprintf("the generated CIFAR-10-format stand-in (ten shape classes; %d training, %d test images; seed %d) in %s",
		cfg.Train, cfg.Test, cfg.Seed, dir)
	d.Short = "the CIFAR-10 stand-in"
	return d, nil
}

// parse parses the command line of experiment name, applies --quick (with
// the experiment's own quick values) and checks the shared flags.
func (f *resnetFlags) parse(fs *flag.FlagSet, args []string, quick map[string]string) (resnets.Recipe, torch.Device, error) {
	if err := parseFlags(fs, args); err != nil {
		return resnets.Recipe{}, torch.Device{}, err
	}
	if fs.NArg() > 0 {
		return resnets.Recipe{}, torch.Device{}, fmt.Errorf("unexpected arguments %q (see --help)", fs.Args())
	}
	f.applyQuick(fs, quick)
	var err error
	if f.workdir, err = filepath.Abs(f.workdir); err != nil {
		return resnets.Recipe{}, torch.Device{}, fmt.Errorf("flag --workdir: %w", err)
	}
	rc, err := f.recipe()
	if err != nil {
		return rc, torch.Device{}, err
	}
	dev, err := torch.ParseDevice(f.device)
	if err != nil {
		return rc, dev, fmt.Errorf("flag --device: %w", err)
	}
	return rc, dev, nil
}

// run loads libtorch, opens the data and runs an experiment whose flags
// have been checked, then says where its table and plots are.
func (f *resnetFlags) run(env Env, name string, experiment func(data *resnets.Data) (*resnets.Report, error)) error {
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
	rep, err := experiment(data)
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

// positive checks that every value of a list flag is ≥ 1.
func positive(name string, vs []int) error {
	for _, v := range vs {
		if v < 1 {
			return fmt.Errorf("flag --%s: %d, want values ≥ 1", name, v)
		}
	}
	return nil
}
