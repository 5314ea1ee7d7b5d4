package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// BeamCommand is the separate binary that runs the data stages on Apache
// Beam; `pipeline run --runner NAME` runs it, found next to this one.
const BeamCommand = "weaksup-beam"

// exitCode is an error whose message a child process has already printed:
// run exits with the code and prints nothing more.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// runnerFlag reports whether args ask for a Beam runner (--runner NAME or
// --runner=NAME, before a "--").
func runnerFlag(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "runner" {
			return true
		}
	}
	return false
}

// runBeam runs `weaksup-beam pipeline run ARGS`, which prints its own
// errors; an interrupt reaches it as SIGINT.
func runBeam(ctx context.Context, env Env, args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("flag --runner: find %s: %w", BeamCommand, err)
	}
	bin := filepath.Join(filepath.Dir(exe), BeamCommand)
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("flag --runner: %s not found next to %s (build it: make build, or go build -o %s ./cmd/weaksup-beam): %w",
			BeamCommand, exe, bin, err)
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"pipeline", "run"}, args...)...)
	cmd.Stdout, cmd.Stderr = env.Stdout, env.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() > 0 {
		return exitCode(ee.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", bin, err)
	}
	return nil
}
