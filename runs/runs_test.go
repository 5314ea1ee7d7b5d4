package runs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type config struct {
	Arch  string  `json:"arch"`
	Noise float64 `json:"noise"`
}

func TestHashDirNamesConfigurations(t *testing.T) {
	a, err := HashDir("out", "pretrain", config{"tiny", 0})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := HashDir("out", "pretrain", config{"tiny", 0})
	c, _ := HashDir("out", "pretrain", config{"tiny", 0.1})
	if a != b || a == c || !strings.HasPrefix(filepath.Base(a), "pretrain-") || len(filepath.Base(a)) != len("pretrain-")+12 {
		t.Errorf("dirs %s, %s, %s: want equal configs in one directory, another config in another", a, b, c)
	}
}

func TestClaimRefusesAnotherConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := Claim(dir, config{"tiny", 0.1}); err != nil {
		t.Fatal(err)
	}
	if err := Claim(dir, config{"tiny", 0.1}); err != nil {
		t.Errorf("claiming again with the same config: %v", err)
	}
	err := Claim(dir, config{"small", 0.1})
	if !errors.Is(err, ErrOtherConfig) || !strings.Contains(err.Error(), filepath.Join(dir, ConfigFile)) {
		t.Errorf("another config: %v, want ErrOtherConfig naming %s", err, ConfigFile)
	}
}

func TestDoRunsOnceAndRetriesFailures(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	calls := 0
	run := func(fail bool) func() (config, error) {
		return func() (config, error) {
			calls++
			if fail {
				return config{}, errors.New("interrupted")
			}
			return config{"tiny", float64(calls)}, nil
		}
	}
	if _, _, err := Do(dir, run(true)); err == nil {
		t.Fatal("a failing run: no error")
	}
	if _, err := os.Stat(filepath.Join(dir, ResultFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed run left a result: %v", err)
	}
	got, reused, err := Do(dir, run(false))
	if err != nil || reused || got.Noise != 2 {
		t.Fatalf("second try: %+v reused %v err %v, want a fresh result of call 2", got, reused, err)
	}
	again, reused, err := Do(dir, run(false))
	if err != nil || !reused || again != got || calls != 2 {
		t.Fatalf("third try: %+v reused %v err %v after %d calls, want the saved result without a call", again, reused, err, calls)
	}
	if err := os.WriteFile(filepath.Join(dir, ResultFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Do(dir, run(false)); err == nil || !strings.Contains(err.Error(), ResultFile) {
		t.Errorf("a corrupt result: %v, want an error naming it", err)
	}
}
