package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"weaksup/torch"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

// VersionCommand prints the version.
type VersionCommand struct{}

// Run prints the version, the Go version and the VCS revision.
func (c *VersionCommand) Run(ctx context.Context, env Env, args []string) error {
	fs := env.flagSet("version", "version", "Print the weaksup version, the Go toolchain, the source revision, and the libtorch shim training loads: the libtorch it runs on, its CUDA, backends and ABI.\n\nExample:\n  weaksup version")
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
	fmt.Fprintln(env.Stdout, torchVersion())
	return nil
}

// torchVersion describes the libtorch shim training would load: the
// libtorch it runs on, its CUDA and process-group backends, its file, ABI
// and the libtorch it was built against; or why it does not load (the
// other commands work without it).
func torchVersion() string {
	v, err := torch.Version()
	if err != nil {
		return "libtorch: not loaded: " + err.Error()
	}
	cuda := "CPU only"
	if v.CUDA != "" {
		cuda = "CUDA " + v.CUDA
	}
	backends, err := torch.DistBackends()
	b := strings.Join(backends, ",")
	if err != nil {
		b = "unknown (" + err.Error() + ")"
	} else if b == "" {
		b = "none"
	}
	return fmt.Sprintf("libtorch %s (%s), %s, backends %s\nshim %s, ABI %d, built against libtorch %s",
		v.Runtime, v.TorchLib, cuda, b, v.Path, v.ABI, v.Torch)
}
