// Command weaksup-beam runs the data stages (ingest, canonicalize, dedup,
// shards) as an Apache Beam pipeline: on Prism in this process, or on
// Dataflow, Flink, Spark or any job server. `weaksup pipeline run --runner
// NAME` runs it; it is a command of its own because Beam and its runners
// add some 60 MB to a binary, and because a cluster's workers run this
// same binary (linux/amd64, pure Go), started as `weaksup-beam --worker
// ...` by the runner's SDK container.
//
//	weaksup-beam pipeline run --workdir DIR --input records.jsonl --runner prism [flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec/optimized"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/spark"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"

	"weaksup/beampipe"
	"weaksup/pipeline"
)

const usage = `Usage: weaksup-beam pipeline run --workdir DIR --input FILE [flags] [--runner NAME] [beam flags]

Runs ingest, canonicalize, dedup and shards as one Apache Beam pipeline and
writes what 'weaksup pipeline run' writes into DIR (vocab.tsv, hashtags.tsv,
reports/, shards/), plus DIR/beam/ (chunk outputs, metrics.json).

Runners: prism (default; in this process, nothing to install), dataflow,
flink, spark, universal (any job server, --endpoint HOST:PORT).

Example:
  weaksup-beam pipeline run --workdir work --input records.jsonl \
      --testset imagenet=/data/imagenet/val --runner prism

'weaksup pipeline run --runner NAME ...' runs this command (found next to
the weaksup binary). Flags marked [beam] are Apache Beam's.`

func main() {
	// A runner's SDK container starts this binary as a worker:
	// `weaksup-beam --worker --id=... --control_endpoint=...`. Those are
	// Beam's global flags; beam.Init runs the harness and exits.
	if isWorker(os.Args[1:]) {
		flag.Parse()
		beam.Init()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		fmt.Fprintln(os.Stderr, "weaksup pipeline:", err)
		os.Exit(1)
	}
}

func isWorker(args []string) bool {
	for _, a := range args {
		if a == "--worker" || a == "-worker" || a == "--worker=true" || a == "-worker=true" {
			return true
		}
	}
	return false
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) < 2 || args[0] != "pipeline" || args[1] != "run" {
		fmt.Fprintln(stderr, usage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return flag.ErrHelp
		}
		return errors.New("want: pipeline run [flags]")
	}
	fs := flag.NewFlagSet("weaksup-beam pipeline run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage+"\n\nFlags:")
		fs.PrintDefaults()
	}
	wd := fs.String("workdir", "work", "working directory: chunk outputs, vocabulary, reports, shards; a local directory every worker sees, or gs://BUCKET/PREFIX or s3://BUCKET/PREFIX")
	cfg := pipeline.DefaultConfig()
	cfg.RegisterFlags(fs)
	stage := fs.String("stage", "all", "stage to run: only all (the Beam pipeline runs the four stages together)")
	force := fs.Bool("force", false, "crawl every chunk again (delete the finished chunk outputs first)")
	chunkLines := fs.Int("chunk-lines", beampipe.DefaultChunkLines, "input lines per ingest chunk: the unit of resumption and of work per worker")
	verbose := fs.Bool("v", false, "show the runner's and Beam SDK's logs")
	if err := forwardBeamFlags(fs); err != nil {
		return err
	}
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (flags go before them? see --help)", fs.Args())
	}
	if *stage != "all" && *stage != "" {
		return fmt.Errorf("flag --stage %s: with --runner the four stages run as one pipeline; use --stage all", *stage)
	}
	beam.Init()
	if !*verbose {
		// Prism's job server and the loopback SDK harness log through
		// slog.Default; errors come back in the job's error.
		slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError + 1})))
	}
	if *force {
		if err := beampipe.ClearChunks(ctx, *wd); err != nil {
			return fmt.Errorf("flag --force: %w", err)
		}
	}
	_, err := beampipe.Run(ctx, beampipe.Options{Workdir: *wd, Config: cfg, ChunkLines: *chunkLines, Runner: *runners.Runner, Log: stderr})
	return err
}

// forwardBeamFlags makes every flag Beam registered on the global FlagSet
// (runner, endpoint, project, region, temp_location, environment_type, ...)
// settable on fs. Setting goes through flag.CommandLine.Set, so flag.Visit
// — which Beam uses to build the options sent to workers — sees it.
func forwardBeamFlags(fs *flag.FlagSet) error {
	var err error
	flag.CommandLine.VisitAll(func(f *flag.Flag) {
		if fs.Lookup(f.Name) != nil {
			err = errors.Join(err, fmt.Errorf("flag --%s: defined by weaksup and by Beam", f.Name))
			return
		}
		fs.Var(fwd{f}, f.Name, "[beam] "+strings.ReplaceAll(f.Usage, "\n", " "))
	})
	return err
}

type fwd struct{ f *flag.Flag }

func (v fwd) String() string {
	if v.f == nil {
		return ""
	}
	return v.f.Value.String()
}

func (v fwd) Set(s string) error { return flag.CommandLine.Set(v.f.Name, s) }

func (v fwd) IsBoolFlag() bool {
	b, ok := v.f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
