package main

import (
	"strings"
	"testing"
)

func TestRunnerFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"--input", "x.jsonl"}, false},
		{[]string{"--runner", "prism"}, true},
		{[]string{"-runner=flink", "--endpoint", "localhost:8099"}, true},
		{[]string{"--input", "runner"}, false},
		{[]string{"--", "--runner", "prism"}, false},
	} {
		if got := runnerFlag(c.args); got != c.want {
			t.Errorf("runnerFlag(%q) = %v, want %v", c.args, got, c.want)
		}
	}
}

// Without weaksup-beam next to the binary, --runner says how to build it.
func TestPipelineRunnerNeedsBeamCommand(t *testing.T) {
	code, _, errOut := runCaptured(t, "pipeline", "run", "--workdir", t.TempDir(), "--input", "x.jsonl", "--runner", "prism")
	if code != 1 || !strings.Contains(errOut, "weaksup-beam not found") || !strings.Contains(errOut, "make build") {
		t.Errorf("exit %d, stderr %q; want exit 1 and how to build weaksup-beam", code, errOut)
	}
}
