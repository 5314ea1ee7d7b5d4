package experiment

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"weaksup/dedup"
	"weaksup/demo"
	"weaksup/pipeline"
	"weaksup/workdir"
)

// The quick world goes through every data stage over a real loopback
// server: records are crawled with failures, labelled, de-duplicated and
// sharded, and dedup catches the planted copies of target images.
func TestDataStagesOnQuickWorld(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	w, err := StartWorld(ctx, filepath.Join(dir, "world"), demo.Quick(), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cfg := PipelineConfig(w)
	wd := workdir.Dir(filepath.Join(dir, "work"))
	r := &pipeline.Runner{Workdir: wd, Stages: cfg.Stages(), Log: os.Stderr}
	if err := r.Run(ctx, "all"); err != nil {
		t.Fatal(err)
	}
	states, err := r.Status()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.Status != "done" {
			t.Errorf("stage %s: status %q (%s), want done", s.Stage, s.Status, s.Why)
		}
		t.Logf("%s: %s", s.Stage, pipeline.FormatCounts(s.Record.Counts))
	}
	score, err := ScoreDedup(wd, w.World)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dedup: %+v", score)
	if score.Radius != dedup.DefaultRadius {
		t.Errorf("score radius %d, want the stage's %d", score.Radius, dedup.DefaultRadius)
	}
	if score.Planted < 5 {
		t.Fatalf("only %d planted copies were crawled, want >= 5", score.Planted)
	}
	// Resized, re-encoded and mirrored copies are caught; crops move the
	// DCT grid and brightening shifts many coefficients, so some of those
	// escape the default radius (see the recall table in BENCHMARKS.md).
	missed := map[string]bool{}
	for _, id := range score.MissedIDs {
		missed[id] = true
	}
	for _, d := range w.Duplicates {
		if missed[d.CrawlID] && !strings.Contains(d.Transform, "crop") && !strings.Contains(d.Transform, "brighten") {
			t.Errorf("planted copy %s (%s of %s) not caught", d.CrawlID, d.Transform, d.TargetPath)
		}
	}
	if score.FalsePositives != 0 {
		t.Errorf("%d crawled records dropped as target copies that are not planted copies", score.FalsePositives)
	}
}

// The demo runs the pipeline a user would run with these flags, so its
// stage records hash alike and a demo working directory made with the
// flags stays up to date.
func TestPipelineConfigIsTheFlags(t *testing.T) {
	dir := t.TempDir()
	w := &World{World: &demo.World{Dir: dir}, CrawlFile: filepath.Join(dir, "crawl.jsonl")}
	args := []string{
		"--input", w.CrawlFile, "--allow-private", "--per-host", "64", "--contact", "weaksup-demo@localhost",
		"--min-side", "16", "--image-size", "none", "--backoff", "50ms", "--backoff-max", "2s", "--fetch-timeout", "5s",
		"--testset", "target=" + filepath.Join(dir, demo.TargetDir, "val") + ":imagenet",
	}
	var want pipeline.Config
	fs := flag.NewFlagSet("pipeline run", flag.ContinueOnError)
	want.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if got := PipelineConfig(w); !reflect.DeepEqual(got, want) {
		t.Errorf("PipelineConfig:\n got  %+v\n want %+v", got, want)
	}
}
