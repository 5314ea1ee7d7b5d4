package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// cmdMainEnv makes the test binary run as weaksup itself, so that the ranks
// --nproc-per-node starts (this executable, again) are weaksup commands.
const cmdMainEnv = "WEAKSUP_CMD_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(cmdMainEnv) != "" {
		// As main does: the launcher stops ranks with SIGTERM.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestNProcPerNodeWritesToTheCommandsWriters: the ranks that --nproc-per-node
// starts write to the writers the command was given (rank 1 with its
// prefix), and a failed rank fails the command.
func TestNProcPerNodeWritesToTheCommandsWriters(t *testing.T) {
	t.Setenv(cmdMainEnv, "1")
	missing := filepath.Join(t.TempDir(), "no-shards")
	code, out, errOut := runCaptured(t, "pretrain", "--nproc-per-node", "2", "--shards", missing, "--out", filepath.Join(t.TempDir(), "run"), "--dist-timeout", "1m")
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		"[rank 1] weaksup pretrain: open --shards",
		"weaksup pretrain: launch: rank ",
		missing,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	// Rank 0's own line, unprefixed.
	rank0 := false
	for _, line := range strings.Split(errOut, "\n") {
		rank0 = rank0 || strings.HasPrefix(line, "weaksup pretrain: open --shards")
	}
	if !rank0 {
		t.Errorf("stderr lacks rank 0's error line:\n%s", errOut)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing from failed ranks", out)
	}
}
