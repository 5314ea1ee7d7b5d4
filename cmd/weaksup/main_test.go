package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"weaksup/torch"
	"weaksup/torch/torchtest"
)

// runCaptured runs weaksup with args and returns the exit code and what it
// wrote to stdout and stderr.
func runCaptured(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

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

// Every command answers --help with exit code 0, on stderr, with its usage
// line and an example; nothing goes to stdout.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, e := range commands {
		t.Run(e.name, func(t *testing.T) {
			code, out, errOut := runCaptured(t, e.name, "--help")
			if code != 0 {
				t.Errorf("weaksup %s --help exit code = %d, want 0", e.name, code)
			}
			if out != "" {
				t.Errorf("weaksup %s --help wrote to stdout: %q", e.name, out)
			}
			for _, want := range []string{"Usage: weaksup " + e.name, "Example"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("weaksup %s --help lacks %q:\n%s", e.name, want, errOut)
				}
			}
		})
	}
}

// The --help of a subcommand lists its flags with their defaults.
func TestSubcommandHelpListsFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"pipeline", "run", "--help"}, []string{"Usage: weaksup pipeline run", "-stage string", `(default "all")`, "stage to run: ingest, canonicalize, dedup, shards, or all", "-workdir", "-testset", "-vocab-size int"}},
		{[]string{"pipeline", "status", "--help"}, []string{"Usage: weaksup pipeline status", "-workdir", `(default "work")`}},
		{[]string{"vocab", "build", "--help"}, []string{"Usage: weaksup vocab build", "-imagenet1k", "-out string", `(default "vocab.tsv")`}},
		{[]string{"shards", "inspect", "--help"}, []string{"Usage: weaksup shards inspect", "-top int", "(default 20)"}},
		{[]string{"dedup", "check", "--help"}, []string{"Usage: weaksup dedup check", "-radius int", "(default 10)", "-min-score float", "-max-chroma float"}},
		{[]string{"experiment", "scale", "--help"}, []string{"Usage: weaksup experiment scale", "-fractions list"}},
		{[]string{"experiment", "depth", "--help"}, []string{"Usage: weaksup experiment depth", "-depths list", "(default 20,32,44,56,110)", "-quick", "-milestones", "(default 32000,48000)", "stand-in"}},
		{[]string{"experiment", "init", "--help"}, []string{"Usage: weaksup experiment init", "-variants list", "skipinit0", "plain-xavier"}},
		{[]string{"experiment", "width", "--help"}, []string{"Usage: weaksup experiment width", "-cardinalities list", "(default 1,2,4,8,32)"}},
		{[]string{"arch", "--help"}, []string{"Usage: weaksup arch", "-input int", "-list", "-shortcut string"}},
		{[]string{"tags", "synset", "--help"}, []string{"Usage: weaksup tags", "-sense-policy string", `(default "first")`}},
	} {
		code, out, errOut := runCaptured(t, tc.args...)
		if code != 0 || out != "" {
			t.Errorf("%q: exit %d, stdout %q; want 0 and nothing", tc.args, code, out)
		}
		for _, want := range tc.want {
			if !strings.Contains(errOut, want) {
				t.Errorf("%q lacks %q:\n%s", tc.args, want, errOut)
			}
		}
	}
}

// A bad value is an error that names the flag; a flag that does not exist
// is a usage error that shows the usage.
func TestErrorsNameTheFlag(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"tags", "--sense-policy", "most", "#dog"}, 1, "weaksup tags: flag --sense-policy"},
		{[]string{"vocab", "build", "--imagenet1k", "--sense-policy", "most", "--out", dir + "/v.tsv"}, 1, "weaksup vocab: flag --sense-policy"},
		{[]string{"vocab", "show", "--workdir", dir}, 1, "(flag --workdir)"},
		{[]string{"noise", "--p", "0,1.5"}, 1, "weaksup noise: flag --p: 1.5 is outside [0, 1)"},
		{[]string{"experiment", "scale", "--fractions", "0"}, 1, "weaksup experiment: flag --fractions: 0 is outside (0, 1]"},
		{[]string{"pipeline", "run", "--workdir", dir, "--stage", "dedup", "--radius", "99"}, 1, "stage dedup: flag --radius 99: want 0..64"},
		{[]string{"pipeline", "status", "--workdir", dir, "--bogus"}, 2, "flag provided but not defined: -bogus\nUsage: weaksup pipeline status"},
		{[]string{"findings", "--out", dir + "/f", "--only", "noise,bogus"}, 1, "weaksup findings: check flag --only: unknown comparison \"bogus\""},
		{[]string{"findings", "--out", dir + "/f", "--seeds", "0"}, 1, "weaksup findings: check flag --seeds: 0"},
		{[]string{"shards", "verify", dir + "/missing"}, 1, "open shard directory " + dir + "/missing: it does not exist"},
		{[]string{"experiment", "depth", "--workdir", dir, "--milestones", "x"}, 2, `invalid value "x" for flag -milestones: "x" is not an integer`},
		{[]string{"experiment", "depth", "--workdir", dir, "--depths", "21"}, 1, "flags --depths, --families, --shortcut: look up arch plain21: depth must be 6n+2"},
		{[]string{"experiment", "depth", "--workdir", dir, "--shortcut", "C"}, 1, "parse shortcut \"C\""},
		{[]string{"experiment", "init", "--workdir", dir, "--variants", "bn2"}, 1, "variant \"bn2\""},
		{[]string{"experiment", "depth", "--workdir", dir, "--task", "cifar10", "--data", dir + "/none"}, 1, "cifar-10"},
		{[]string{"pretrain", "--shards", dir, "--out", dir + "/p", "--precision", "fp8"}, 2, `invalid value "fp8" for flag -precision: want one of [auto fp32 bf16 fp16]`},
		{[]string{"arch", "resnet21"}, 1, "depth must be 6n+2"},
		{[]string{"arch", "resnet20", "--shortcut", "C"}, 1, "weaksup arch: flag --shortcut"},
	} {
		code, out, errOut := runCaptured(t, tc.args...)
		if code != tc.wantCode || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant exit %d and %q", tc.args, code, errOut, tc.wantCode, tc.want)
		}
		if out != "" {
			t.Errorf("%q: wrote %q to stdout on an error", tc.args, out)
		}
	}
}

// TestVersion: weaksup version names itself, and the libtorch the shim
// runs on and the shim's ABI, as the shim reports them.
func TestVersion(t *testing.T) {
	torchtest.Need(t)
	v, err := torch.Version()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCaptured(t, "version")
	if code != 0 || !strings.HasPrefix(out, "weaksup "+Version+" (go") || errOut != "" {
		t.Errorf("version: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, want := range []string{"\nlibtorch " + v.Runtime + " (" + v.TorchLib + ")", fmt.Sprintf("ABI %d, built against libtorch %s\n", torch.ABIVersion, v.Torch)} {
		if !strings.Contains(out, want) {
			t.Errorf("version: stdout %q does not say %q", out, want)
		}
	}
}
