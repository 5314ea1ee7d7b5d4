package main

import "context"

// NoiseCommand is the `weaksup noise` command.
type NoiseCommand struct{}

// Run parses flags and reports that the command is not built yet.
func (c *NoiseCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("noise", "noise --p 0,0.1,0.25,0.5 [flags]", `The label-noise experiment.`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return errNotBuilt("weaksup noise")
}
