package main

import "context"

// TagsCommand is the `weaksup tags` command.
type TagsCommand struct{}

// Run parses flags and reports that the command is not built yet.
func (c *TagsCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("tags", "tags HASHTAG...", `Show how hashtags canonicalize through WordNet.`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return errNotBuilt("weaksup tags")
}
