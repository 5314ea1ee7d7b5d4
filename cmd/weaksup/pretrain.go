package main

import "context"

// PretrainCommand is the `weaksup pretrain` command.
type PretrainCommand struct{}

// Run parses flags and reports that the command is not built yet.
func (c *PretrainCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("pretrain", "pretrain --shards DIR --out DIR [flags]", `Pretrain a ResNeXt on Arrow hashtag shards with the c-of-K softmax loss.`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return errNotBuilt("weaksup pretrain")
}
