package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"weaksup/shards"
	"weaksup/storage"
)

// ShardsCommand is the `weaksup shards` command: inspect or verify a shard
// directory.
type ShardsCommand struct{}

const shardsHelp = `Inspect or verify the Arrow training shards the shards stage wrote.

Subcommands:
  inspect  print the manifest summary and a histogram of the top tags;
           --dump N writes the first N images of a split with an index.tsv
  verify   check every shard's size, SHA-256, schema and rows against
           manifest.json; names the bad shard and row and exits 1

DIR is a local directory or a gs://BUCKET/PREFIX or s3://BUCKET/PREFIX URL.
Credentials come from Application Default Credentials (gs://) or the AWS
credential chain (s3://); AWS_ENDPOINT_URL selects an S3-compatible service.

Examples:
  weaksup shards inspect work/shards
  weaksup shards inspect --top 50 --dump 20 --dump-dir /tmp/peek --split val work/shards
  weaksup shards verify work/shards
  weaksup shards verify s3://my-bucket/run1/shards`

// Run dispatches to inspect or verify.
func (c *ShardsCommand) Run(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(env.Stderr, "Usage: weaksup shards inspect|verify [flags] DIR\n\n%s\n", shardsHelp)
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "inspect":
		return c.inspect(env, args[1:])
	case "verify":
		return c.verify(env, args[1:])
	}
	fmt.Fprintf(env.Stderr, "weaksup shards: unknown subcommand %q (want inspect or verify)\n", args[0])
	return errUsage
}

func (c *ShardsCommand) inspect(env Env, args []string) error {
	fs := env.flagSet("shards inspect", "shards inspect [flags] DIR", shardsHelp)
	top := fs.Int("top", 20, "tags to show in the histogram")
	dump := fs.Int("dump", 0, "write the first N images of --split to --dump-dir")
	dumpDir := fs.String("dump-dir", "shard-dump", "where --dump writes images and index.tsv")
	split := fs.String("split", shards.SplitTrain, "split to dump: train or val")
	dir, err := shardsDir(fs, args)
	if err != nil {
		return err
	}
	if err := shards.Inspect(dir, env.Stdout, *top); err != nil {
		return err
	}
	if *dump > 0 {
		n, err := shards.Dump(dir, *split, *dump, *dumpDir)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "\nwrote %d images of %s and index.tsv to %s\n", n, *split, *dumpDir)
	}
	return nil
}

func (c *ShardsCommand) verify(env Env, args []string) error {
	fs := env.flagSet("shards verify", "shards verify DIR", shardsHelp)
	dir, err := shardsDir(fs, args)
	if err != nil {
		return err
	}
	if err := shards.Verify(dir, env.Stdout); err != nil {
		return fmt.Errorf("verify %s: %w", dir, err)
	}
	fmt.Fprintln(env.Stdout, "all shards match the manifest")
	return nil
}

// shardsDir parses flags and the one DIR argument.
func shardsDir(fs *flag.FlagSet, args []string) (string, error) {
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(fs.Output(), "weaksup: want exactly one shard directory")
		fs.Usage()
		return "", errUsage
	}
	dir := fs.Arg(0)
	if storage.IsURL(dir) {
		return dir, nil // the storage layer names a missing bucket or object
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("open shard directory %s: it does not exist", dir)
	}
	return dir, nil
}
