package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDispatch(t *testing.T) {
	tests := []struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{nil, 2, "Commands:", ""},
		{[]string{"--help"}, 0, "pretrain", ""},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{"version", "--bogus"}, 2, "", ""},
		{[]string{"pipeline", "run", "--stage", "nope", "--workdir", "WORKDIR"}, 1, "", `unknown stage`},
		{[]string{"pipeline", "status", "--workdir", "WORKDIR/missing"}, 1, "", "does not exist (flag --workdir)"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			for i, a := range tt.args {
				tt.args[i] = strings.ReplaceAll(a, "WORKDIR", dir)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

// Every command answers --help with exit code 0 and documents its flags.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, e := range commands {
		t.Run(e.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{e.name, "--help"}, &stdout, &stderr); code != 0 {
				t.Errorf("weaksup %s --help exit code = %d, want 0", e.name, code)
			}
		})
	}
}
