package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"weaksup/datasets"
	"weaksup/findings"
	"weaksup/internal/listflag"
	"weaksup/train"
)

// FindingsCommand measures every claim of the recipe in one report.
type FindingsCommand struct{}

const findingsHelp = `Measure every claim of Mahajan et al. (2018) in one report: pretrained vs
from scratch (linear probe and full fine-tuning), label noise, data scale
(slope per decade), capacity × data, target-matched vs full vocabulary,
softmax vs sigmoid, sqrt vs natural tag sampling, test copies left in
(dedup off), and tag concreteness vs per-tag held-out AP.

Every arm gets the same budget; every transfer chooses its learning rate
the same way (finetune --lr auto, on images carved out of the target's
training split). A seed fixes the data order, initialization and carved
split of every arm of a comparison, so each statistic is a per-seed paired
difference; findings.md gives its mean and 95% Student-t interval over
--seeds seeds (--transfer-seeds for finding 1), says yes or no only when
the interval excludes zero (else how many seeds would decide it, were its
mean and spread to hold), and shows every pretrained arm's held-out
hashtag mAP. No row is read while the base arm's mAP is below --min-map:
a network that has not learned from the hashtags proves nothing.
findings.json holds every seed's numbers, plots/ a chart per row. Runs live
in <out>/runs/<kind>-<hash of the config>: an interrupted run resumes, and
arms that several comparisons share (the p=0 noise arm is the full-data,
softmax and natural-sampling arm) run once.

On the demo world by default (generated, served and crawled in --out); with
--shards and --data on real data (the vocabulary and dedup comparisons need
the demo world, which the pipeline is rerun on, and are left out).

--scale cpu (the default) takes about 90 minutes on an idle 2-core machine;
--scale gpu runs the same comparisons at a budget for one GPU host
(--device cuda); --quick runs the whole path on tiny sizes in about a
minute.

Comparisons (--only): ` + "pretrain-linear, pretrain-full, noise, scale, capacity, vocab, loss, sampling, dedup, concreteness" + `

Examples:
  weaksup findings --out findings-run
  weaksup findings --quick --out /tmp/f --only noise,loss
  weaksup findings --out f --concreteness brysbaert.csv --only concreteness
  weaksup findings --out f --shards work/shards --vocab work/vocab.tsv \
      --task cub --data /data/CUB_200_2011 --steps 20000 --image-size 64`

// Run parses flags and runs the findings.
func (c *FindingsCommand) Run(ctx context.Context, env Env, args []string) error {
	fs := env.flagSet("findings", "findings [--quick] [--out DIR] [--seeds N] [--only IDS] [flags]", findingsHelp)
	out := fs.String("out", "findings", "directory for the report, the plots and every run")
	seeds := fs.Int("seeds", 3, "seeds per comparison (at least 2 for an interval)")
	transferSeeds := fs.Int("transfer-seeds", 0, "seeds of finding 1's rows, pretrained against scratch (0: the scale's default, 5 cpu, 10 gpu, 2 quick)")
	minMAP := fs.Float64("min-map", -1, "held-out hashtag mAP the base arm must reach before any row is read (-1: the scale's default, 0.11 cpu and gpu, none quick)")
	quick := fs.Bool("quick", false, "tiny world and sizes: the whole path in about a minute (--scale quick)")
	scale := fs.String("scale", "cpu", "the budget: cpu (make findings on a 2-core machine), gpu (one GPU host: bigger nets, 64 px, 10x the steps; use with --device cuda) or quick")
	var only listflag.Value[string]
	fs.Var(&only, "only", "comma-separated `list` of comparisons to run (default: all)")
	conc := fs.String("concreteness", "", "CSV of word,score concreteness ratings (default: scored from WordNet)")
	shardsDir := fs.String("shards", "", "real pretraining shards instead of the demo world")
	vocab := fs.String("vocab", "", "with --shards: the vocab.tsv they were built with (for concreteness)")
	task := fs.String("task", datasets.ImageFolder, "with --shards: target task layout: "+strings.Join(datasets.Layouts, ", "))
	data := fs.String("data", "", "with --shards: target task directory")
	steps := fs.Int("steps", 0, "pretraining steps per arm (0: the scale's default, 1000 cpu, 6000 gpu, 6 quick)")
	lr := fs.Float64("lr", 0, "pretraining base learning rate per 256 images (0: the scale's default, 2 cpu, 0.4 gpu)")
	imageSize := fs.Int("image-size", 0, "image side in pixels (0: 24 cpu, 64 gpu, 16 quick)")
	arch := fs.String("arch", "", "architecture of the arms (default: tiny cpu, small gpu); capacity compares it with --big-arch")
	bigArch := fs.String("big-arch", "", "the bigger architecture of the capacity comparison (default: resnet20 cpu, resnext29_8x64d gpu)")
	device := fs.String("device", "cpu", "cpu, cuda or cuda:N")
	threads := fs.Int("threads", 0, "libtorch CPU threads (0: one per core)")
	precision := train.PrecisionAuto
	precision.RegisterFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	dir, err := filepath.Abs(*out)
	if err != nil {
		return fmt.Errorf("flag --out: %w", err)
	}
	cfg := findings.Config{Out: dir, Seeds: *seeds, Concreteness: *conc, Sizes: findings.FullSizes(), World: findings.FullWorld(),
		Device: *device, Threads: *threads, Precision: precision, Log: env.Stderr, Command: "weaksup findings " + strings.Join(args, " ")}
	if *quick {
		*scale = "quick"
	}
	switch *scale {
	case "cpu":
	case "gpu":
		cfg.Sizes, cfg.World = findings.GPUSizes(), findings.GPUWorld()
	case "quick":
		cfg.Sizes, cfg.World = findings.QuickSizes(), findings.QuickWorld()
	default:
		return fmt.Errorf("check flag --scale: %q, want cpu, gpu or quick", *scale)
	}
	cfg.TransferSeeds, cfg.MinMAP = cfg.Sizes.TransferSeeds, cfg.Sizes.MinMAP
	if *transferSeeds > 0 {
		cfg.TransferSeeds = *transferSeeds
	}
	if *minMAP >= 0 {
		cfg.MinMAP = *minMAP
	}
	cfg.Only = only
	if *steps > 0 {
		cfg.Sizes.Steps = *steps
	}
	if *imageSize > 0 {
		cfg.Sizes.ImageSize = *imageSize
	}
	if *lr > 0 {
		cfg.Sizes.LR = *lr
	}
	if *arch != "" {
		cfg.Sizes.Arch = *arch
	}
	if *bigArch != "" {
		cfg.Sizes.BigArch = *bigArch
	}
	if *shardsDir != "" {
		if *data == "" {
			return fmt.Errorf("flag --shards: give --data (and --task) for the target task")
		}
		if cfg.Shards, err = filepath.Abs(*shardsDir); err != nil {
			return fmt.Errorf("flag --shards: %w", err)
		}
		cfg.Vocab, cfg.Task, cfg.Target = *vocab, *task, *data
	}
	t0 := time.Now()
	rep, err := findings.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "findings finished in %s\n\n", time.Since(t0).Round(time.Second))
	if rep.Gate != "" {
		fmt.Fprintf(env.Stdout, "no row is read: %s\n\n", rep.Gate)
	}
	for _, r := range rep.Rows {
		fmt.Fprintf(env.Stdout, "%-16s %-13s %+.3f [%+.3f, %+.3f] %s (n=%d)\n", r.ID, r.Direction, r.CI.Mean, r.CI.Lo, r.CI.Hi, r.Unit, r.CI.N)
	}
	fmt.Fprintf(env.Stdout, "\nreport: %s\nplots:  %s\n", filepath.Join(dir, findings.ReportMD), filepath.Join(dir, findings.PlotsDir))
	return nil
}
