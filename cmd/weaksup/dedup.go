package main

import (
	"context"
	"errors"
	"fmt"

	"weaksup/dedup"
)

// DedupCommand is the `weaksup dedup` command.
type DedupCommand struct{}

const dedupHelp = `Check images against evaluation test sets with the dedup stage's matcher.

For each IMAGE, 'dedup check' runs the two steps the dedup stage runs: the
candidate search (test images with a view - the image, its mirror, 90% and
95% crops - whose 64-bit perceptual hash lies within --radius) and the
verification (the correlation of the band-passed thumbnails of the image and
of that view, at least --min-score, and their colours, a chroma distance of
at most --max-chroma, for a copy). It prints every candidate
with the view and the test that decided it and the score, then the nearest
other test images by hash up to --top lines, and whether the image counts
as a duplicate. It uses the same flags and the same cached test-set
signatures under --workdir as 'weaksup pipeline run --stage dedup'.

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
	wd := workdirFlag(fs, "work", "working directory; test-set signatures are cached in WORKDIR/testsets")
	top := fs.Int("top", 3, "lines to print per image: every candidate, then the nearest other test images")
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
	testsets, err := cfg.List()
	if err != nil {
		return err
	}
	cat, err := dedup.LoadCatalog(ctx, *wd, testsets, stderr)
	if err != nil {
		return err
	}
	var failed error
	for _, path := range fs.Args() {
		res, err := dedup.CheckFile(cat, path, *top, cfg)
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", path, err)
			failed = errors.Join(failed, err)
			continue
		}
		verdict := "not a duplicate"
		if res.Duplicate {
			verdict = "DUPLICATE"
		}
		fmt.Fprintf(stdout, "%s: phash %016x: %s (radius %d, min score %.2f, max chroma %g)\n", path, res.Hash, verdict, cfg.Radius, cfg.MinScore, cfg.MaxChroma)
		for _, m := range res.Candidates {
			what := "rejected"
			if m.Copy {
				what = "copy"
			}
			score := m.Test
			switch m.Test {
			case dedup.TestNCC:
				score = fmt.Sprintf("ncc %.3f chroma %.1f", m.Score, m.Chroma)
			case dedup.TestChroma:
				score = fmt.Sprintf("chroma %.1f", m.Chroma)
			}
			fmt.Fprintf(stdout, "  %-8s d=%-2d %-10s %-21s %s:%s\n", what, m.Distance, m.View, score, m.Set, m.Image)
		}
		for _, m := range res.Nearest {
			fmt.Fprintf(stdout, "  %-8s d=%-2d %-10s %-21s %s:%s\n", "nearest", m.Distance, m.View, "-", m.Set, m.Image)
		}
	}
	if failed != nil {
		return fmt.Errorf("check images: %w", failed)
	}
	return nil
}
