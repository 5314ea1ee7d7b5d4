package pipeline

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// deps returns the weaksup packages pkg imports, directly or not, read
// from the source tree (non-test files, default build tags).
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	seen := map[string]bool{}
	var visit func(p string)
	visit = func(p string) {
		dir := filepath.Join("..", filepath.FromSlash(strings.TrimPrefix(p, "weaksup/")))
		bp, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("read imports of %s: %v", p, err)
		}
		for _, imp := range bp.Imports {
			if strings.HasPrefix(imp, "weaksup/") && !seen[imp] {
				seen[imp] = true
				visit(imp)
			}
		}
	}
	visit("weaksup/" + pkg)
	var out []string
	for p := range seen {
		out = append(out, strings.TrimPrefix(p, "weaksup/"))
	}
	slices.Sort(out)
	return out
}

// The arrows point one way: cmd → experiment → finetune/train/pipeline →
// the stages (ingest → canonicalize → dedup → shards) → the leaves. No stage
// imports a later stage or anything above the stages.
func TestStagesDependDownwardOnly(t *testing.T) {
	stages := StageNames()
	above := []string{"pipeline", "experiment", "finetune", "train", "cmd/weaksup"}
	for i, s := range stages {
		d := deps(t, s)
		for _, later := range append(slices.Clone(stages[i+1:]), above...) {
			if slices.Contains(d, later) {
				t.Errorf("stage %s depends on %s (all: %v)", s, later, d)
			}
		}
	}
	for _, p := range []string{"finetune", "train"} {
		if d := deps(t, p); slices.Contains(d, "pipeline") || slices.Contains(d, "experiment") {
			t.Errorf("%s depends on the pipeline or the experiments: %v", p, d)
		}
	}
}

// The training packages form layers too: the networks (nets) under the
// recipe and its loop (train) under data parallelism (ddp) under the
// user-facing tasks (pretrain, finetune) under the experiments (experiment,
// resnets, findings); the run helper (runs) is a leaf.
func TestTrainingLayersDependDownwardOnly(t *testing.T) {
	layers := [][]string{
		{"runs"},
		{"nets"},
		{"train"},
		{"ddp"},
		{"pretrain", "finetune"},
		{"experiment", "resnets", "findings"},
		{"cmd/weaksup"},
	}
	for i, layer := range layers {
		var higher []string
		for _, l := range layers[i+1:] {
			higher = append(higher, l...)
		}
		for _, p := range layer {
			d := deps(t, p)
			for _, h := range higher {
				if slices.Contains(d, h) {
					t.Errorf("%s depends on %s, a layer above it (all: %v)", p, h, d)
				}
			}
		}
	}
	for _, p := range []string{"pretrain", "finetune", "resnets"} {
		for _, peer := range []string{"pretrain", "finetune", "resnets", "experiment"} {
			if p != peer && slices.Contains(deps(t, p), peer) {
				t.Errorf("%s depends on %s, a peer", p, peer)
			}
		}
	}
}

// The loader reads the shards stage's output and nothing else of the
// stages: training-time transforms (label noise among them) live with it,
// not in the stage that assigned the labels.
func TestLoaderImportsNoStageButShards(t *testing.T) {
	bp, err := build.ImportDir(filepath.Join("..", "loader"), 0)
	if err != nil {
		t.Fatalf("read imports of loader: %v", err)
	}
	for _, s := range StageNames() {
		if s != "shards" && slices.Contains(bp.Imports, "weaksup/"+s) {
			t.Errorf("loader imports stage %s (imports: %v)", s, bp.Imports)
		}
	}
}
