// Package runs is the one way an experiment resumes: every run (a
// pretraining arm, a transfer, a CIFAR net, a point of a sweep) lives in a
// directory of its own, holds the configuration it was made with, and
// holds its result once it has finished. A rerun of the experiment reuses
// finished runs, continues unfinished ones (each run resumes from its own
// checkpoints) and refuses to mix a run directory with another
// configuration. Nothing here is safe for two processes writing one
// directory at once.
package runs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"weaksup/atomicfile"
)

// The files of a run directory.
const (
	ConfigFile = "run.json"    // the configuration the run was made with
	ResultFile = "result.json" // its result: present once it has finished (or, for runs that record progress, its latest)
)

// ErrOtherConfig is wrapped by Claim's error for a directory made with
// another configuration.
var ErrOtherConfig = errors.New("the run directory was made with another configuration")

// HashDir returns root/<kind>-<the first 12 hex digits of the SHA-256 of
// config's JSON>: one directory per configuration, so that runs shared
// between experiments run once.
func HashDir(root, kind string, config any) (string, error) {
	b, err := json.Marshal(config)
	if err != nil {
		return "", fmt.Errorf("hash %s config: %w", kind, err)
	}
	sum := sha256.Sum256(b)
	return filepath.Join(root, kind+"-"+hex.EncodeToString(sum[:6])), nil
}

// Claim makes dir the run of config: it creates dir and records config in
// it, or checks that the recorded configuration is config (compared as
// JSON, as it was stored) and returns an error wrapping ErrOtherConfig when
// it is not.
func Claim(dir string, config any) error {
	want, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return fmt.Errorf("record the configuration of %s: %w", dir, err)
	}
	want = append(want, '\n')
	path := filepath.Join(dir, ConfigFile)
	got, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("make run directory: %w", err)
		}
		return atomicfile.WriteFile(path, want)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if !sameJSON(got, want) {
		return fmt.Errorf("%s: %w (see %s); use another output directory or remove that folder", dir, ErrOtherConfig, path)
	}
	return nil
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ca, _ := json.Marshal(x)
	cb, _ := json.Marshal(y)
	return bytes.Equal(ca, cb)
}

// Load reads dir's result into v and reports whether there was one.
func Load(dir string, v any) (bool, error) {
	path := filepath.Join(dir, ResultFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read run result: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	return true, nil
}

// Save writes v as dir's result, atomically.
func Save(dir string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write the result of %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write the result of %s: %w", dir, err)
	}
	return atomicfile.WriteFile(filepath.Join(dir, ResultFile), append(b, '\n'))
}

// Do returns the result of the run in dir: the saved one when it has
// finished (reused true), else what run returns, saved first. A run that
// fails saves nothing, so the next Do runs it again (and it resumes from
// its own checkpoints).
func Do[T any](dir string, run func() (T, error)) (res T, reused bool, err error) {
	if ok, err := Load(dir, &res); err != nil || ok {
		return res, ok, err
	}
	if res, err = run(); err != nil {
		return res, false, err
	}
	return res, false, Save(dir, res)
}
