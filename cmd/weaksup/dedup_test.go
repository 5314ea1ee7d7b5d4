package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/workdir"
)

// copyFile copies a test photograph of the dedup package.
func copyFile(t *testing.T, name, dst string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "dedup", "testdata", "photos", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDedupCheck(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "Aqua.jpg", filepath.Join(dir, "val", "n01", "Aqua.jpg"))
	copyFile(t, "Dune.jpg", filepath.Join(dir, "val", "n02", "Dune.jpg"))
	copyFile(t, "Aqua.jpg", filepath.Join(dir, "query", "same.jpg"))
	copyFile(t, "Wood.jpg", filepath.Join(dir, "query", "other.jpg"))
	wd := filepath.Join(dir, "work")
	args := []string{"check", "--workdir", wd, "--testset", "imagenet=" + filepath.Join(dir, "val") + ":imagenet", "--top", "2",
		filepath.Join(dir, "query", "same.jpg"), filepath.Join(dir, "query", "other.jpg")}
	for run := range 2 { // the second run reads the cached hashes
		var stdout, stderr bytes.Buffer
		if err := new(DedupCommand).Run(context.Background(), Env{Stdout: &stdout, Stderr: &stderr}, args); err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, stderr.String())
		}
		out := stdout.String()
		for _, want := range []string{"same.jpg: phash", "DUPLICATE", "  copy     d=0  image      ncc 1.000 chroma 0.", "imagenet:n01/Aqua.jpg",
			"other.jpg: phash", "not a duplicate", "imagenet:n02/Dune.jpg"} {
			if !strings.Contains(out, want) {
				t.Errorf("run %d: output lacks %q:\n%s", run, want, out)
			}
		}
	}
	if caches, _ := filepath.Glob(filepath.Join(workdir.Dir(wd).TestSets(), "imagenet-*.phash")); len(caches) != 1 {
		t.Errorf("cached test sets = %v, want one", caches)
	}
}

func TestDedupCheckUsage(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "Aqua.jpg", filepath.Join(dir, "val", "Aqua.jpg"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage: weaksup dedup check"},
		{[]string{"check", "x.jpg"}, "give at least one --testset"},
		{[]string{"check", "--testset", "v=" + dir}, "give at least one IMAGE"},
		{[]string{"check", "--testset", "nonsense"}, "NAME=PATH"},
	} {
		var stdout, stderr bytes.Buffer
		err := new(DedupCommand).Run(context.Background(), Env{Stdout: &stdout, Stderr: &stderr}, tc.args)
		if !errors.Is(err, errUsage) {
			t.Errorf("%q: error %v, want a usage error", tc.args, err)
		}
		if !strings.Contains(stdout.String()+stderr.String(), tc.want) {
			t.Errorf("%q: output lacks %q:\n%s%s", tc.args, tc.want, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	err := new(DedupCommand).Run(context.Background(), Env{Stdout: &stdout, Stderr: &stderr},
		[]string{"check", "--workdir", filepath.Join(dir, "w"), "--testset", "v=" + filepath.Join(dir, "val"), filepath.Join(dir, "missing.jpg")})
	if err == nil || errors.Is(err, errUsage) || !strings.Contains(stdout.String(), "missing.jpg") {
		t.Errorf("missing image: error %v, output %q; want a failure naming the file", err, stdout.String())
	}
}
