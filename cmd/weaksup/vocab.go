package main

import "context"

// VocabCommand is the `weaksup vocab` command.
type VocabCommand struct{}

// Run parses flags and reports that the command is not built yet.
func (c *VocabCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("vocab", "vocab [flags]", `Build or inspect the hashtag vocabulary.`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return errNotBuilt("weaksup vocab")
}
