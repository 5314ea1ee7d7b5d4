package findings

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// Run runs the selected comparisons with every seed and writes findings.md,
// findings.json and plots/ into cfg.Out, rewriting them after each seed of
// each comparison so an interrupted run still leaves a report. Seeds are
// the outer loop: the first seed of every comparison comes before the
// second of any. Finished runs are reused.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("create --out: %w", err)
	}
	t0 := time.Now()
	var selected []*Comparison
	for _, c := range Comparisons {
		if len(cfg.Only) == 0 || slices.Contains(cfg.Only, c.ID) {
			selected = append(selected, c)
		}
	}
	src, err := sources(ctx, cfg, selected, log)
	if err != nil {
		return nil, err
	}
	rep := &Report{Command: cfg.Command, Started: t0, Config: cfg}
	seeds := make([][]SeedResult, len(selected))
	secs := make([]float64, len(selected))
	skipped := make([]string, len(selected))
	for i, c := range selected {
		for _, v := range c.Variants {
			if _, ok := src.Shards[v]; !ok {
				skipped[i] = fmt.Sprintf("needs the %s data variant, which only the demo world rebuilds", v)
			}
		}
		if c.ID == "concreteness" && src.Vocab[DataBase] == "" {
			skipped[i] = "needs the shards' vocab.tsv (--vocab) to find each tag's WordNet synset"
		}
	}
	r := &runner{cfg: cfg, src: src, log: log}
	write := func(complete bool) error {
		rep.Rows = rep.Rows[:0]
		rep.gate(cfg.MinMAP)
		for i, c := range selected {
			row := summarize(c, seeds[i])
			if rep.Gate != "" && row.Skipped == "" && len(seeds[i]) > 0 {
				row.Direction = NotRead
			}
			row.Seconds = secs[i]
			switch {
			case skipped[i] != "":
				row.Skipped = skipped[i]
			case len(seeds[i]) == 0:
				row.Skipped = "not yet run"
			default:
				if err := drawRow(cfg.Out, &row); err != nil {
					return err
				}
			}
			rep.Rows = append(rep.Rows, row)
		}
		rep.Seconds, rep.Complete = time.Since(t0).Seconds(), complete
		return rep.write(cfg.Out)
	}
	maxSeeds := 0
	for _, c := range selected {
		maxSeeds = max(maxSeeds, cfg.seedsOf(c))
	}
	for seed := uint64(1); seed <= uint64(maxSeeds); seed++ {
		// The base arm first: every comparison is read against what it
		// learned.
		base, err := r.pretrain(ctx, r.baseArm(seed))
		if err != nil {
			if werr := write(false); werr != nil {
				err = errors.Join(err, werr)
			}
			return rep, fmt.Errorf("base arm, seed %d: %w", seed, err)
		}
		if base.Eval != nil {
			rep.BaseMAP = append(rep.BaseMAP, Num(base.Eval.MAP))
			fmt.Fprintf(log, "findings: seed %d: the base arm's held-out mAP is %.3f (at least %.3f wanted)\n", seed, base.Eval.MAP, cfg.MinMAP)
		}
		for i, c := range selected {
			if skipped[i] != "" || seed > uint64(cfg.seedsOf(c)) {
				continue
			}
			fmt.Fprintf(log, "findings: seed %d of %d: %s (%s elapsed)\n", seed, cfg.seedsOf(c), c.Finding, time.Since(t0).Round(time.Second))
			ts := time.Now()
			res, err := c.Measure(ctx, r, seed)
			secs[i] += time.Since(ts).Seconds()
			if err != nil {
				if werr := write(false); werr != nil {
					err = errors.Join(err, werr)
				}
				return rep, fmt.Errorf("%s, seed %d: %w", c.ID, seed, err)
			}
			seeds[i] = append(seeds[i], res)
			fmt.Fprintf(log, "findings: seed %d: %s: %s = %.3f %s\n", seed, c.ID, c.Statistic, res.Statistic, c.Unit)
			if err := write(false); err != nil {
				return rep, err
			}
		}
	}
	if err := write(true); err != nil {
		return rep, err
	}
	return rep, nil
}

// sources prepares the data the selected comparisons need: the demo
// world's variants, or the real shards and target task.
func sources(ctx context.Context, cfg Config, selected []*Comparison, log io.Writer) (*Sources, error) {
	if cfg.Shards != "" {
		return &Sources{Shards: map[string]string{DataBase: cfg.Shards}, Vocab: map[string]string{DataBase: cfg.Vocab},
			Task: cfg.Task, Target: cfg.Target}, nil
	}
	var variants []string
	for _, v := range []string{DataBase, DataNoDedup, DataMatched} {
		for _, c := range selected {
			if slices.Contains(c.Variants, v) && !slices.Contains(variants, v) {
				variants = append(variants, v)
			}
		}
	}
	if len(variants) > 0 && variants[0] != DataBase {
		variants = append([]string{DataBase}, variants...)
	}
	return prepareDemo(ctx, cfg.Out, cfg.World, cfg.Sizes.ValFraction, variants, log)
}
