package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/canonicalize"
	"weaksup/store"
	"weaksup/workdir"
)

func TestVocabBuildImageNet1k(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in1k.tsv")
	code, out, errOut := runCaptured(t, "vocab", "build", "--imagenet1k", "--out", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	v, err := canonicalize.LoadVocabulary(path)
	if err != nil {
		t.Fatal(err)
	}
	if v.Len() != 1000 || v.Entries[1].Tag != "goldfish" {
		t.Errorf("ImageNet-1k vocabulary: %d tags, entry 1 %q", v.Len(), v.Entries[1].Tag)
	}
	if !strings.Contains(out, "tags      1000") || !strings.Contains(out, v.Hash()) {
		t.Errorf("summary lacks the size or hash:\n%s", out)
	}
	code, out, _ = runCaptured(t, "vocab", "show", "--file", path, "--top", "2")
	if code != 0 || !strings.Contains(out, "tench") || strings.Contains(out, "greatwhiteshark") {
		t.Errorf("show --top 2: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCaptured(t, "vocab", "build", "--out", path); code != 1 || !strings.Contains(errOut, "--imagenet1k") {
		t.Errorf("build without a source: exit %d, %q", code, errOut)
	}
}

func TestVocabWorkdir(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(workdir.Dir(dir).Store())
	if err != nil {
		t.Fatal(err)
	}
	for id, tags := range map[string][]string{"a": {"BrownBears", "dogs"}, "b": {"bruin"}, "c": {"dog"}, "d": {"goldfish"}} {
		if err := st.PutRecord(&store.Record{ID: id, RawTags: tags, Outcome: store.OutcomeOK}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := canonicalize.Run(context.Background(), st, workdir.Dir(dir), canonicalize.DefaultConfig(), io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCaptured(t, "vocab", "--workdir", dir)
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"tags      3", "brownbear  n02132136  2       brownbear,bruin"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	path := filepath.Join(t.TempDir(), "top1.tsv")
	code, _, errOut = runCaptured(t, "vocab", "build", "--workdir", dir, "--vocab-size", "1", "--out", path)
	if code != 0 {
		t.Fatalf("build: exit %d: %s", code, errOut)
	}
	v, err := canonicalize.LoadVocabulary(path)
	if err != nil {
		t.Fatal(err)
	}
	if v.Len() != 1 || v.Entries[0].Tag != "brownbear" || v.Entries[0].Count != 2 {
		t.Errorf("top-1 vocabulary %+v, want brownbear with 2 images", v.Entries)
	}
}
