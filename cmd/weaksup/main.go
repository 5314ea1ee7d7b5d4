// Command weaksup builds a weakly supervised training set from public image
// + hashtag records and pretrains and transfers ResNeXt networks on it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"weaksup/workdir"
)

// Command is one weaksup subcommand.
type Command interface {
	Run(ctx context.Context, env Env, args []string) error
}

// Env is where a command writes: main gives it the process's standard
// output and error, tests give it buffers. No command writes to os.Stdout
// or os.Stderr itself.
type Env struct {
	Stdout io.Writer // results: tables, summaries, where outputs went
	Stderr io.Writer // usage, errors, logs and progress
}

type entry struct {
	name    string
	summary string
	cmd     func() Command
}

// commands lists the subcommands in the order `weaksup --help` shows them.
var commands = []entry{
	{"pipeline", "run the data stages (ingest, canonicalize, dedup, shards) or show their status", func() Command { return new(PipelineCommand) }},
	{"pretrain", "pretrain a ResNeXt on hashtag shards with the c-of-K softmax loss", func() Command { return new(PretrainCommand) }},
	{"finetune", "transfer a network to ImageNet, CUB-2011, Places-365 or an image folder", func() Command { return new(FinetuneCommand) }},
	{"eval", "evaluate a network on a target task: top-1, top-5, per-class accuracy", func() Command { return new(EvalCommand) }},
	{"noise", "label-noise experiment: pretrain at several noise levels and transfer", func() Command { return new(NoiseCommand) }},
	{"experiment", "experiments: data scale (scale); depth, initialization and width of residual nets on CIFAR (depth, init, width)", func() Command { return new(ExperimentCommand) }},
	{"arch", "describe a network: parameters, multiply-adds, layers, a per-stage table", func() Command { return new(ArchCommand) }},
	{"demo", "run the whole system end to end on a generated world", func() Command { return new(DemoCommand) }},
	{"findings", "measure every claim of the recipe: 95% intervals over paired seeds, direction vs the paper", func() Command { return new(FindingsCommand) }},
	{"tags", "show how hashtags canonicalize through WordNet", func() Command { return new(TagsCommand) }},
	{"vocab", "build or inspect the hashtag vocabulary", func() Command { return new(VocabCommand) }},
	{"shards", "inspect or verify Arrow training shards", func() Command { return new(ShardsCommand) }},
	{"dedup", "check images against test-set perceptual-hash indexes", func() Command { return new(DedupCommand) }},
	{"version", "print the version", func() Command { return new(VersionCommand) }},
}

// errUsage marks an error already explained by a usage message.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, e := range commands {
		if e.name != args[0] {
			continue
		}
		err := e.cmd().Run(ctx, Env{Stdout: stdout, Stderr: stderr}, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		case errors.As(err, new(exitCode)):
			var code exitCode
			errors.As(err, &code)
			return int(code)
		case errors.Is(err, context.Canceled):
			fmt.Fprintf(stderr, "weaksup %s: interrupted; what was done is saved: run the same command again to continue (pretrain and finetune: add --resume)\n", e.name)
			return 130
		default:
			fmt.Fprintf(stderr, "weaksup %s: %v\n", e.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "weaksup: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `weaksup turns public image + hashtag records into a clean, weakly supervised
training set and pretrains ResNeXt networks on it, then transfers them to
ImageNet, CUB-2011, Places-365 or any labelled image folder.

Usage:
  weaksup <command> [flags] [arguments]

Commands:`)
	for _, e := range commands {
		fmt.Fprintf(w, "  %-11s %s\n", e.name, e.summary)
	}
	fmt.Fprintln(w, `
Run 'weaksup <command> --help' for a command's flags and an example.
Start with 'weaksup demo --quick' to see every stage run on generated data.`)
}

// flagSet returns a flag set whose --help prints the command's usage text,
// an example and every flag with its default to env.Stderr, where parse
// errors go too.
func (env Env) flagSet(name, synopsis, help string) *flag.FlagSet {
	fs := flag.NewFlagSet("weaksup "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: weaksup %s\n\n%s\n\nFlags:\n", synopsis, strings.TrimSpace(help))
		fs.PrintDefaults()
	}
	return fs
}

// workdirFlag registers --workdir with a default and a usage line.
func workdirFlag(fs *flag.FlagSet, def, usage string) *workdir.Dir {
	d := new(workdir.Dir)
	fs.StringVar((*string)(d), "workdir", def, usage)
	return d
}

// parseFlags parses args, turning a parse error into errUsage (the flag
// package has already printed the problem and the usage).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
