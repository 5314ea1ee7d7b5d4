package pipeline

import (
	"context"
	"errors"
	"io"
	"reflect"
	"testing"

	"weaksup/store"
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
