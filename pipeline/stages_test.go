package pipeline

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"weaksup/datasets"
	"weaksup/dedup"
	"weaksup/internal/testkit"
	"weaksup/store"
	"weaksup/store/storetest"
	"weaksup/workdir"
)

func TestStageOrder(t *testing.T) {
	want := []string{"ingest", "canonicalize", "dedup", "shards"}
	if got := StageNames(); !reflect.DeepEqual(got, want) {
		t.Errorf("StageNames() = %v, want %v", got, want)
	}
	cfg := DefaultConfig()
	r := &Runner{Stages: cfg.Stages()}
	if got := r.StageNames(); !reflect.DeepEqual(got, want) {
		t.Errorf("names of Config.Stages() = %v, want %v", got, want)
	}
}

// A stage that fails before it has statistics gives the runner no Result,
// not a Result holding a nil pointer, so the record has no counts.
func TestStageFuncNilResult(t *testing.T) {
	bad := errors.New("flag --x: bad")
	run := stageFunc(func(context.Context, *store.Store, workdir.Dir, int, io.Writer) (*testStats, error) {
		return nil, bad
	}, 0)
	res, err := run(context.Background(), nil, "", io.Discard)
	if res != nil || !errors.Is(err, bad) {
		t.Errorf("stageFunc of a failing stage = %v, %v; want nil, %v", res, err, bad)
	}
	ok := stageFunc(func(_ context.Context, _ *store.Store, _ workdir.Dir, n int, _ io.Writer) (*testStats, error) {
		return &testStats{Records: int64(n)}, nil
	}, 7)
	if res, err := ok(context.Background(), nil, "", io.Discard); err != nil || res.Counts()["records"] != 7 {
		t.Errorf("stageFunc passes the config and the result: got %v, %v", res, err)
	}
}

// The flags of a stage replace its recorded config; a stage without flags
// on the command line keeps the config it ran with.
func TestKeepRecorded(t *testing.T) {
	wd := workdir.Dir(t.TempDir())
	ran := DefaultConfig()
	ran.Canonicalize.VocabSize = 100
	ran.Shards.ShardMB = 8
	for _, s := range ran.Stages() {
		cfg, hash, err := hashJSON(s.Config)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeRecord(wd, &Record{Stage: s.Name, Status: StatusDone, Config: cfg, ConfigHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	now := DefaultConfig()
	now.Shards.ShardMB = 16
	if err := now.KeepRecorded(wd, map[string]bool{"shard-mb": true}); err != nil {
		t.Fatal(err)
	}
	if now.Canonicalize.VocabSize != 100 {
		t.Errorf("canonicalize vocab size %d, want the recorded 100", now.Canonicalize.VocabSize)
	}
	if now.Shards.ShardMB != 16 {
		t.Errorf("shards shard size %d, want 16 from the flag", now.Shards.ShardMB)
	}
}

// The dedup stage lists its test sets once: Run hashes the images its
// Fingerprint listed, even when the folder changed in between, and the
// next fingerprint lists again.
func TestDedupStageRunsFromItsListing(t *testing.T) {
	wd := workdir.Dir(t.TempDir())
	set := t.TempDir()
	write := func(name string, seed uint64) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(set, name), testkit.PhotoJPEG(t, seed, 64, 64, 90), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.jpg", 1)
	cfg := dedup.DefaultConfig()
	cfg.TestSets = []dedup.Spec{{Name: "s", Path: set, Layout: datasets.LayoutAuto}}
	s := dedupStage(cfg)
	st := storetest.Open(t, wd)
	defer st.Close()
	images := func() int {
		t.Helper()
		res, err := s.Run(context.Background(), st, wd, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return res.(*dedup.Summary).TestSets[0].Images
	}
	fp1, err := s.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	write("b.jpg", 2)
	if n := images(); n != 1 {
		t.Errorf("run after the first fingerprint hashed %d test images, want the 1 it listed", n)
	}
	fp2, err := s.Fingerprint()
	if err != nil || fp2 == fp1 {
		t.Fatalf("fingerprint after adding b.jpg = %q, %v; want a new one (was %q)", fp2, err, fp1)
	}
	if n := images(); n != 2 {
		t.Errorf("run after the second fingerprint hashed %d test images, want 2", n)
	}
}
