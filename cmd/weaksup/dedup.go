package main

import "context"

// DedupCommand is the `weaksup dedup` command.
type DedupCommand struct{}

// Run parses flags and reports that the command is not built yet.
func (c *DedupCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("dedup", "dedup check --testset NAME=PATH IMAGE...", `Check images against test-set perceptual-hash indexes.`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return errNotBuilt("weaksup dedup")
}
