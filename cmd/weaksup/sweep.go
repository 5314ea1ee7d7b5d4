package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"weaksup/datasets"
	"weaksup/experiment"
	"weaksup/finetune"
	"weaksup/pretrain"
	"weaksup/train"
)

// sweepFlags are the flags the noise and scale experiments share: where
// the pretraining data and the target task come from, and the budget.
type sweepFlags struct {
	workdir     string
	demo, quick bool
	shards      string
	task, data  string
	arch        string
	steps       int
	batch       int
	imageSize   int
	probeEpochs int
	seed        uint64
	precision   train.Precision
}

func (f *sweepFlags) register(fs *flag.FlagSet, name string) {
	fs.StringVar(&f.workdir, "workdir", name+"-experiment", "directory for every run, the table (<name>.md, <name>.json) and the plot")
	fs.BoolVar(&f.demo, "demo", false, "run on the generated demo world (generated, crawled and sharded in --workdir)")
	fs.BoolVar(&f.quick, "quick", false, "with --demo: the tiny world of 'weaksup demo --quick'")
	fs.StringVar(&f.shards, "shards", "", "pretraining shard directory (without --demo)")
	fs.StringVar(&f.task, "task", datasets.ImageFolder, "target task layout (without --demo): "+fmt.Sprint(datasets.Layouts))
	fs.StringVar(&f.data, "data", "", "target task directory (without --demo)")
	fs.StringVar(&f.arch, "arch", "tiny", "architecture pretrained at every point")
	fs.IntVar(&f.steps, "steps", 0, "pretraining steps per point (0: 40 with --quick, else 1500)")
	fs.IntVar(&f.batch, "batch", 64, "pretraining batch")
	fs.IntVar(&f.imageSize, "image-size", 32, "pretraining and transfer image side in pixels")
	fs.IntVar(&f.probeEpochs, "probe-epochs", 100, "linear-probe epochs on the target task")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of every run")
	f.precision = train.PrecisionAuto
	f.precision.RegisterFlag(fs)
}

// sweep builds the shared part of an experiment, preparing the demo data
// when --demo is given.
func (f *sweepFlags) sweep(ctx context.Context, env Env, name string) (*experiment.Sweep, error) {
	var err error
	if f.workdir, err = filepath.Abs(f.workdir); err != nil {
		return nil, fmt.Errorf("flag --workdir: %w", err)
	}
	s := &experiment.Sweep{Name: name, Workdir: f.workdir, Log: env.Stderr}
	pc := pretrain.DefaultConfig()
	pc.Arch, pc.Batch, pc.ImageSize, pc.Seed, pc.Steps = f.arch, f.batch, f.imageSize, f.seed, f.steps
	pc.WarmupEpochs, pc.EvalEvery, pc.Precision = 0.5, -1, f.precision
	// Every point's probe chooses its learning rate the same way, on a
	// part carved out of the target's training images.
	s.Target = finetune.Config{Task: f.task, Data: f.data, ImageSize: f.imageSize, Epochs: f.probeEpochs, Seed: f.seed, Precision: f.precision,
		Mode: finetune.ModeLinear}
	protocol := finetune.DefaultProtocol()
	switch {
	case f.demo:
		dc := experiment.DefaultDemo(f.workdir)
		if f.quick {
			dc = experiment.QuickDemo(f.workdir)
			s.Target.Epochs = min(s.Target.Epochs, dc.ProbeEpochs)
		}
		if pc.Steps == 0 {
			pc.Steps = dc.PretrainSteps
		}
		pc.LR = dc.PretrainLR
		protocol = dc.Transfer
		dc.Log = env.Stderr
		shardsDir, target, err := experiment.PrepareDemoData(ctx, dc)
		if err != nil {
			return nil, err
		}
		pc.Shards, s.Target.Task, s.Target.Data = shardsDir, datasets.ImageNet, target
	case f.shards == "" || f.data == "":
		return nil, fmt.Errorf("give --demo, or --shards and --data (and --task) for real data")
	default:
		pc.Shards = f.shards
		if pc.Steps == 0 {
			pc.Steps = 1500
		}
	}
	s.Pretrain = pc
	protocol.Apply(&s.Target)
	return s, nil
}

func (f *sweepFlags) done(env Env, name string) {
	abs, _ := filepath.Abs(f.workdir)
	fmt.Fprintf(env.Stdout, "table: %s\nplot:  %s\n", filepath.Join(abs, name+".md"), filepath.Join(abs, "plots", name+".png"))
}
