package main

import "context"

// DemoCommand is the `weaksup demo` command.
type DemoCommand struct{}

// Run parses flags and reports that the command is not built yet.
func (c *DemoCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("demo", "demo [--quick] [--workdir DIR]", `Run the whole system end to end on a generated world.`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return errNotBuilt("weaksup demo")
}
