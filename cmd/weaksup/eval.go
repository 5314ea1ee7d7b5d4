package main

import "context"

// EvalCommand is the `weaksup eval` command.
type EvalCommand struct{}

// Run parses flags and reports that the command is not built yet.
func (c *EvalCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("eval", "eval --task ... --data DIR --from CHECKPOINT [flags]", `Evaluate a network on a target task.`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return errNotBuilt("weaksup eval")
}
