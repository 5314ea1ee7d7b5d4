package shards_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"weaksup/canonicalize"
	"weaksup/internal/testkit"
	"weaksup/shards"
	"weaksup/shards/shardstest"
	"weaksup/store"
	"weaksup/workdir"
)

// testWorkdir builds a working directory with a store and a vocabulary:
// n ok labelled records, plus records that must not reach the shards (not
// ok, no labels, dropped by dedup). It returns the ids that must.
func testWorkdir(t *testing.T, n, k int) (workdir.Dir, *store.Store, []string) {
	t.Helper()
	wd := workdir.Dir(t.TempDir())
	var entries []canonicalize.Entry
	for i := range k {
		entries = append(entries, canonicalize.Entry{ID: int32(i), Tag: fmt.Sprintf("tag%d", i), WNID: fmt.Sprintf("n%08d", 1000+i), Count: 1})
	}
	v, err := canonicalize.NewVocabulary(entries)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile(wd.Vocab()); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(wd.Store())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rows := shardstest.Rows(t, n+3, k, 256) // about 12 kB each, so 1 MiB shards split them
	var want []string
	for i, r := range rows {
		rec := &store.Record{ID: r.Key, URL: r.URL, RawTags: r.RawTags, Outcome: store.OutcomeOK, Width: 16, Height: 16, PHash: r.PHash, SHA256: r.SHA256}
		img := r.Image
		switch i {
		case n: // failed fetch
			rec.Outcome, img = "http_404", nil
		case n + 1: // dropped by dedup
		case n + 2: // no labels in the vocabulary
		}
		if err := st.PutRecord(rec, img); err != nil {
			t.Fatal(err)
		}
		l := store.Labels{Tags: r.Tags, IDs: r.Labels}
		if i == n+2 {
			l = store.Labels{}
		}
		if err := st.PutLabels(r.Key, l); err != nil {
			t.Fatal(err)
		}
		if i == n+1 {
			if err := st.SetDrop(r.Key, "dedup", "test-set match"); err != nil {
				t.Fatal(err)
			}
		}
		if i < n {
			want = append(want, r.Key)
		}
	}
	return wd, st, want
}

func TestStageStoreToShards(t *testing.T) {
	const n = 300
	wd, st, want := testWorkdir(t, n, 15)
	cfg := shards.DefaultConfig()
	cfg.ShardMB = 1
	cfg.ValFraction = 0.1
	stats, err := shards.Run(context.Background(), st, wd, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	dir := wd.Shards()
	m, err := shards.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	tr, va := m.Splits[shards.SplitTrain], m.Splits[shards.SplitVal]
	if got := tr.Rows + va.Rows; got != n {
		t.Errorf("train %d + val %d rows = %d, want %d", tr.Rows, va.Rows, got, n)
	}
	// val is Binomial(300, 0.1): mean 30, sd 5.2; 6 sd either side.
	if va.Rows < 0 || va.Rows > 62 || va.Rows == 0 {
		t.Errorf("val rows = %d, want about 30", va.Rows)
	}
	if stats.TrainRows != int64(tr.Rows) || stats.ValRows != int64(va.Rows) || stats.TrainShards != int64(len(tr.Shards)) || stats.Skipped != 1 {
		t.Errorf("stats = %+v, want the manifest's rows and shards (train %d/%d, val %d) and 1 skipped (the failed fetch)", stats, tr.Rows, len(tr.Shards), va.Rows)
	}
	if len(tr.Shards) < 2 {
		t.Errorf("%d train shards, want several at 1 MiB each", len(tr.Shards))
	}
	if err := shards.Verify(dir, nil); err != nil {
		t.Errorf("Verify: %v", err)
	}
	var got []string
	for _, split := range []string{shards.SplitTrain, shards.SplitVal} {
		ss, err := shards.OpenShardSet(dir, split)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for i := range ss.Len() {
			key, img, labels, err := ss.Read(i, nil)
			if err != nil {
				t.Fatalf("%s row %d: %v", split, i, err)
			}
			if len(img) == 0 || len(labels) == 0 {
				t.Errorf("%s row %d (%s): %d image bytes, labels %v", split, i, key, len(img), labels)
			}
			keys = append(keys, key)
		}
		ss.Close()
		sort.Strings(keys)
		got = append(got, keys...)
		if want := m.Splits[split].Rows; len(keys) != want || len(slices.Compact(slices.Clone(keys))) != want {
			t.Errorf("%s: %d keys (%d distinct), want %d once each", split, len(keys), len(slices.Compact(keys)), want)
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("loaded keys differ from the surviving records: got %d, want %d", len(got), len(want))
	}

	// A rerun with another seed replaces every file.
	before, _ := filepath.Glob(filepath.Join(dir, "*"))
	cfg.Seed = 2
	cfg.ShardMB = 2
	if _, err := shards.Run(context.Background(), st, wd, cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	m2, err := shards.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := filepath.Glob(filepath.Join(dir, "*"))
	listed := map[string]bool{shards.ManifestName: true}
	for _, sp := range m2.Splits {
		for _, sh := range sp.Shards {
			listed[sh.File] = true
		}
	}
	for _, f := range after {
		if !listed[filepath.Base(f)] {
			t.Errorf("after rerun %s is left over (before: %d files)", filepath.Base(f), len(before))
		}
	}
	if m2.Config.Seed != 2 {
		t.Errorf("manifest config seed = %d, want 2", m2.Config.Seed)
	}
	for _, leftover := range []string{dir + ".new", dir + ".old"} {
		if _, err := os.Stat(leftover); err == nil {
			t.Errorf("%s left behind", leftover)
		}
	}
}

func TestStageInterruptedKeepsOldShards(t *testing.T) {
	wd, st, _ := testWorkdir(t, 40, 5)
	cfg := shards.DefaultConfig()
	if _, err := shards.Run(context.Background(), st, wd, cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	dir := wd.Shards()
	before := testkit.ReadFile(t, filepath.Join(dir, shards.ManifestName))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg.Seed = 99
	if _, err := shards.Run(ctx, st, wd, cfg, io.Discard); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run with a cancelled context: err = %v, want context.Canceled", err)
	}
	if after := testkit.ReadFile(t, filepath.Join(dir, shards.ManifestName)); string(after) != string(before) {
		t.Errorf("an interrupted run changed the manifest")
	}
	if err := shards.Verify(dir, nil); err != nil {
		t.Errorf("old shards no longer verify after an interrupted run: %v", err)
	}
	if _, err := os.Stat(dir + ".new"); err == nil {
		t.Errorf("%s.new left behind", dir)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		cfg  shards.Config
		flag string
	}{
		{shards.Config{ShardMB: 0, ValFraction: 0.01}, "--shard-mb"},
		{shards.Config{ShardMB: 1, ValFraction: 1}, "--val-fraction"},
		{shards.Config{ShardMB: 1, ValFraction: -0.5}, "--val-fraction"},
	} {
		_, err := shards.Run(context.Background(), nil, workdir.Dir(t.TempDir()), tc.cfg, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("Run(%+v): err = %v, want it to name %s", tc.cfg, err, tc.flag)
		}
	}
}
