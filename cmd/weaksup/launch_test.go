package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
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
// prefix, rank 0 without), and a failed rank fails the command. Both ranks
// fail on the missing shards, but which fails first is up to the
// scheduler: the first stops the other, which may not get as far as its
// own error. So the test reads the failed rank from the command's summary
// and checks that rank's line.
func TestNProcPerNodeWritesToTheCommandsWriters(t *testing.T) {
	t.Setenv(cmdMainEnv, "1")
	missing := filepath.Join(t.TempDir(), "no-shards")
	code, out, errOut := runCaptured(t, "pretrain", "--nproc-per-node", "2", "--shards", missing, "--out", filepath.Join(t.TempDir(), "run"), "--dist-timeout", "1m")
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", code, errOut)
	}
	m := regexp.MustCompile(`(?m)^weaksup pretrain: launch: rank ([01]) of 2 exited with status 1`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("stderr lacks the launcher's line naming the failed rank:\n%s", errOut)
	}
	prefix := map[string]string{"0": "", "1": "[rank 1] "}[m[1]]
	want := prefix + "weaksup pretrain: open --shards: read manifest " + filepath.Join(missing, "manifest.json")
	found := false
	for _, line := range strings.Split(errOut, "\n") {
		found = found || strings.HasPrefix(line, want)
	}
	if !found {
		t.Errorf("stderr lacks rank %s's error line %q:\n%s", m[1], want, errOut)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing from failed ranks", out)
	}
}
