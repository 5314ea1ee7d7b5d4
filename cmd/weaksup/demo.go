package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"weaksup/experiment"
	"weaksup/train"
	"weaksup/workdir"
)

// DemoCommand runs the whole system on a generated world.
type DemoCommand struct{}

const demoHelp = `Run every part of weaksup end to end on a generated world, with nothing
downloaded:

  1. generate a world: WordNet concepts drawn procedurally, crawl records with
     Zipf-distributed hashtags (synonyms, variants, captions, noise), a target
     task in ImageNet layout, near-duplicates of its test images planted in
     the crawl;
  2. serve the images on loopback with failures (404s, slow, 500-then-ok,
     429, corrupt bytes) and run the pipeline: ingest, canonicalize, dedup
     (reporting the planted copies it caught and missed), shards;
  3. pretrain a small ResNeXt on the hashtags (c-of-K softmax loss);
  4. linear-probe and fine-tune it on the target task against a
     from-scratch baseline with the same budget, each choosing its
     learning rate the same way (finetune --lr auto);
  5. write <workdir>/report.md with the numbers and PNG plots.

Every step resumes: run the same command again after an interruption.
The default takes about 6 minutes on 2 cores; --quick well under a minute.

Examples:
  weaksup demo
  weaksup demo --quick --workdir /tmp/wsdemo`

// Run parses flags and runs the demo.
func (c *DemoCommand) Run(ctx context.Context, env Env, args []string) error {
	fs := env.flagSet("demo", "demo [--quick] [--workdir DIR]", demoHelp)
	quick := fs.Bool("quick", false, "tiny sizes: the whole path in well under a minute")
	dirFlag := fs.String("workdir", "", "directory for everything the demo makes (default: a fresh ./weaksup-demo-YYYYMMDD-HHMMSS)")
	steps := fs.Int("pretrain-steps", 0, "pretraining steps (0: 40 with --quick, else 1500)")
	threads := fs.Int("threads", 0, "libtorch CPU threads (0: one per core)")
	precision := train.PrecisionAuto
	precision.RegisterFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	dir := *dirFlag
	if dir == "" {
		dir = "weaksup-demo-" + time.Now().Format("20060102-150405")
	}
	// Stage records keep the paths they ran with; absolute ones stay valid
	// from any directory.
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("flag --workdir: %w", err)
	}
	cfg := experiment.DefaultDemo(dir)
	if *quick {
		cfg = experiment.QuickDemo(dir)
	}
	if *steps > 0 {
		cfg.PretrainSteps = *steps
	}
	cfg.Threads = *threads
	cfg.Precision = precision
	cfg.Log = env.Stderr
	fmt.Fprintf(env.Stderr, "demo: working in %s\n", dir)
	t0 := time.Now()
	res, err := experiment.RunDemo(ctx, cfg)
	if err != nil {
		return err
	}
	abs := dir
	fmt.Fprintf(env.Stdout, "\ndemo finished in %s\n\n", time.Since(t0).Round(time.Second))
	fmt.Fprintf(env.Stdout, "dedup:     caught %d of %d planted copies (recall %.0f%%), %d false positives\n",
		res.Dedup.Caught, res.Dedup.Planted, 100*res.Dedup.Recall, res.Dedup.FalsePositives)
	fmt.Fprintf(env.Stdout, "pretrain:  %d steps in %s, held-out mAP %.3f over %d tags, precision@1 %.3f\n", res.Pretrain.Steps, res.Pretrain.Precision, res.Pretrain.MAP, len(res.Pretrain.TagAP), res.Pretrain.Precision1)
	for _, mode := range []string{"linear", "full"} {
		p, _ := res.Accuracy(mode, "pretrained")
		s, _ := res.Accuracy(mode, "scratch")
		fmt.Fprintf(env.Stdout, "transfer:  %-6s top-1 pretrained %.1f%%  scratch %.1f%%  (learning rates chosen on a carved validation split: %s)\n", mode, 100*p, 100*s, res.ChosenLRs(mode))
	}
	fmt.Fprintf(env.Stdout, "\nreport:    %s\n", filepath.Join(abs, experiment.DemoReport))
	fmt.Fprintf(env.Stdout, "plots:     %s\n", filepath.Join(abs, "plots"))
	fmt.Fprintf(env.Stdout, "world:     %s\n", filepath.Join(abs, "world"))
	fmt.Fprintf(env.Stdout, "shards:    %s\n", workdir.Dir(abs).Shards())
	fmt.Fprintf(env.Stdout, "runs:      %s\n", filepath.Join(abs, "runs"))
	return nil
}
