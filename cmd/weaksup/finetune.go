package main

import "context"

// FinetuneCommand is the `weaksup finetune` command.
type FinetuneCommand struct{}

// Run parses flags and reports that the command is not built yet.
func (c *FinetuneCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("finetune", "finetune --task imagenet|cub|places365|imagefolder --data DIR --from CHECKPOINT --out DIR [flags]", `Fine-tune or linear-probe a network on a target task.`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return errNotBuilt("weaksup finetune")
}
