package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

// VersionCommand prints the version.
type VersionCommand struct{}

// Run prints the version, the Go version and the VCS revision.
func (c *VersionCommand) Run(ctx context.Context, env Env, args []string) error {
	fs := env.flagSet("version", "version", "Print the weaksup version, the Go toolchain and the source revision.\n\nExample:\n  weaksup version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rev := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = s.Value[:12]
			}
		}
	}
	fmt.Fprintf(env.Stdout, "weaksup %s (%s, %s/%s, rev %s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, rev)
	return nil
}
