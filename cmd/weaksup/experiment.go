package main

import "context"

// ExperimentCommand is the `weaksup experiment` command.
type ExperimentCommand struct{}

// Run parses flags and reports that the command is not built yet.
func (c *ExperimentCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("experiment", "experiment scale --fractions ... [flags]", `The data-scale experiment.`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return errNotBuilt("weaksup experiment")
}
