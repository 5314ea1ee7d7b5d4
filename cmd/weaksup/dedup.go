package main

import (
	"context"
	"errors"
	"fmt"

	"weaksup/dedup"
)

// DedupCommand is the `weaksup dedup` command.
type DedupCommand struct{}

const dedupHelp = `Check images against the perceptual-hash indexes of evaluation test sets.

For each IMAGE, 'dedup check' prints the nearest test images (their paths
relative to the test set and Hamming distances between 64-bit perceptual
hashes; mirrors of test images are indexed too) and whether the image counts
as a duplicate (nearest within --radius). It uses the same flags and the same
cached test-set hashes under --workdir as 'weaksup pipeline run --stage dedup'.

Example:
  weaksup dedup check --workdir work --testset imagenet=/data/imagenet/val \
      --testset cub=/data/CUB_200_2011 photo1.jpg photo2.png`

// Run implements Command.
func (c *DedupCommand) Run(ctx context.Context, env Env, args []string) error {
	stdout, stderr := env.Stdout, env.Stderr
	if len(args) == 0 || args[0] != "check" {
		fs := env.flagSet("dedup", "dedup check [flags] IMAGE...", dedupHelp)
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		fs.Usage()
		return errUsage
	}
	fs := env.flagSet("dedup check", "dedup check [flags] IMAGE...", dedupHelp)
	wd := workdirFlag(fs, "work", "working directory; test-set hashes are cached in WORKDIR/testsets")
	top := fs.Int("top", 3, "nearest test images to print per image")
	cfg := dedup.DefaultConfig()
	cfg.RegisterFlags(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if len(cfg.TestSets) == 0 {
		fmt.Fprintln(stderr, "weaksup dedup check: give at least one --testset NAME=PATH")
		return errUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "weaksup dedup check: give at least one IMAGE")
		return errUsage
	}
	cat, err := dedup.LoadCatalog(ctx, *wd, cfg, stderr)
	if err != nil {
		return err
	}
	var failed error
	for _, path := range fs.Args() {
		res, err := dedup.CheckFile(cat, path, *top, cfg.Radius)
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", path, err)
			failed = errors.Join(failed, err)
			continue
		}
		verdict := "not a duplicate"
		if res.Duplicate {
			verdict = "DUPLICATE"
		}
		fmt.Fprintf(stdout, "%s: phash %016x: %s (radius %d)\n", path, res.Hash, verdict, cfg.Radius)
		for _, m := range res.Nearest {
			mirror := ""
			if m.Mirror {
				mirror = " (mirrored)"
			}
			fmt.Fprintf(stdout, "  %3d  %s:%s%s\n", m.Distance, m.Set, m.Image, mirror)
		}
	}
	if failed != nil {
		return fmt.Errorf("check images: %w", failed)
	}
	return nil
}
