package pretrain

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"testing"
)

// argsEnv carries, as a JSON list, the flags of a Run the test binary
// makes as one rank (as `weaksup pretrain` would).
const argsEnv = "WEAKSUP_PRETRAIN_TEST_ARGS"

// TestMain lets the test binary double as one rank of a pretraining: with
// argsEnv set it runs Run with those flags and exits.
func TestMain(m *testing.M) {
	if args := os.Getenv(argsEnv); args != "" {
		if err := runArgs(args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runArgs parses the pretrain flags in args (JSON) and runs Run, logging
// to stderr.
func runArgs(args string) error {
	var list []string
	if err := json.Unmarshal([]byte(args), &list); err != nil {
		return fmt.Errorf("read the pretrain flags: %w", err)
	}
	c := DefaultConfig()
	fs := flag.NewFlagSet("pretrain", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse(list); err != nil {
		return err
	}
	_, err := Run(context.Background(), c, os.Stderr)
	return err
}
