package main

import "context"

// ShardsCommand is the `weaksup shards` command.
type ShardsCommand struct{}

// Run parses flags and reports that the command is not built yet.
func (c *ShardsCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("shards", "shards inspect|verify DIR", `Inspect or verify Arrow training shards.`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return errNotBuilt("weaksup shards")
}
