package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"weaksup/pipeline"
	"weaksup/storage"
	"weaksup/workdir"
)

// PipelineCommand runs the data stages or shows their status.
type PipelineCommand struct{}

const pipelineHelp = `Run the data stages over a working directory, in order:
  ingest        crawl records (JSONL, CSV/TSV, YFCC100M, Parquet) into the store
  canonicalize  map hashtags to WordNet synsets, build the vocabulary, label records
  dedup         drop near-duplicates of test-set images and exact repeats
  shards        write surviving labelled records as Arrow training shards

A finished stage whose config and inputs have not changed is skipped; --force
reruns it. A killed stage resumes where it stopped when run again. A stage
none of whose flags are given keeps the config it last ran with, so later
runs only need the flags that change.

With --runner prism|dataflow|flink|spark|universal the four stages run as
one Apache Beam pipeline instead (the weaksup-beam command next to this one;
'weaksup-beam pipeline run --help' lists its flags, the runners' among them).

Subcommands:
  run     run one stage (--stage NAME) or all of them (default)
  status  show each stage's state, counts and timings

Examples:
  weaksup pipeline run --workdir work --input records.jsonl.gz \
      --testset imagenet=/data/imagenet/val
  weaksup pipeline run --workdir work --stage dedup --testset cub=/data/CUB_200_2011
  weaksup pipeline status --workdir work
  weaksup pipeline run --workdir work --input records.jsonl --runner prism`

// Run dispatches to run or status.
func (c *PipelineCommand) Run(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(env.Stderr, "Usage: weaksup pipeline run|status [flags]\n\n%s\n\nRun 'weaksup pipeline run --help' for the flags.\n", pipelineHelp)
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "run":
		return c.run(ctx, env, args[1:])
	case "status":
		return c.status(env, args[1:])
	}
	fmt.Fprintf(env.Stderr, "weaksup pipeline: unknown subcommand %q (want run or status)\n", args[0])
	return errUsage
}

func (c *PipelineCommand) flags(env Env, name string) (*flag.FlagSet, *workdir.Dir, *pipeline.Config) {
	fs := env.flagSet("pipeline "+name, "pipeline "+name+" --workdir DIR [flags]", pipelineHelp)
	wd := workdirFlag(fs, "work", "working directory: store, stage records, vocabulary, shards")
	cfg := new(pipeline.Config)
	cfg.RegisterFlags(fs)
	return fs, wd, cfg
}

func (c *PipelineCommand) run(ctx context.Context, env Env, args []string) error {
	if runnerFlag(args) {
		return runBeam(ctx, env, args)
	}
	fs, wd, cfg := c.flags(env, "run")
	stage := fs.String("stage", "all", "stage to run: "+strings.Join(pipeline.StageNames(), ", ")+", or all")
	force := fs.Bool("force", false, "rerun stages even when they are up to date")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (flags go before them? see --help)", fs.Args())
	}
	if err := localWorkdir(*wd); err != nil {
		return err
	}
	if err := cfg.KeepRecorded(*wd, setFlags(fs)); err != nil {
		return err
	}
	r := &pipeline.Runner{Workdir: *wd, Stages: cfg.Stages(), Log: env.Stderr, Force: *force}
	return r.Run(ctx, *stage)
}

func (c *PipelineCommand) status(env Env, args []string) error {
	fs, wd, cfg := c.flags(env, "status")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := localWorkdir(*wd); err != nil {
		return err
	}
	if _, err := os.Stat(wd.String()); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("working directory %s does not exist (flag --workdir)", *wd)
	}
	if err := cfg.KeepRecorded(*wd, setFlags(fs)); err != nil {
		return err
	}
	r := &pipeline.Runner{Workdir: *wd, Stages: cfg.Stages()}
	states, err := r.Status()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tSTATUS\tFINISHED\tSECONDS\tCOUNTS")
	for _, s := range states {
		finished, secs, counts := "-", "-", ""
		if rec := s.Record; rec != nil {
			if !rec.Finished.IsZero() {
				finished = rec.Finished.Local().Format(time.DateTime)
			}
			secs = fmt.Sprintf("%.1f", rec.Seconds)
			counts = pipeline.FormatCounts(rec.Counts)
		}
		status := s.Status
		if s.Why != "" {
			status += " (" + s.Why + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Stage, status, finished, secs, counts)
	}
	return tw.Flush()
}

// localWorkdir refuses a gs:// or s3:// working directory for the
// embedded pipeline, whose store is a local database, instead of making a
// local directory named "s3:".
func localWorkdir(wd workdir.Dir) error {
	if storage.IsURL(string(wd)) {
		return fmt.Errorf("flag --workdir %s: the embedded pipeline keeps its store in a local directory; a working directory in a bucket needs --runner (Beam), and the shards alone can go to one with --out", wd)
	}
	return nil
}

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}
