package beampipe

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"weaksup/datasets"
	"weaksup/dedup"
	"weaksup/pipeline"
	"weaksup/workdir"
)

// runBoth runs cfg through the embedded pipeline and through Beam and
// returns their logs and errors.
func runBoth(t *testing.T, cfg pipeline.Config) (embLog, beamLog string, embErr, beamErr error) {
	t.Helper()
	dir := t.TempDir()
	var el, bl bytes.Buffer
	r := &pipeline.Runner{Workdir: workdir.Dir(filepath.Join(dir, "embedded")), Stages: cfg.Stages(), Log: &el}
	embErr = r.Run(context.Background())
	_, beamErr = Run(context.Background(), Options{Workdir: filepath.Join(dir, "beam"), Config: cfg, ChunkLines: 2, Runner: "prism", Log: &bl})
	return el.String(), bl.String(), embErr, beamErr
}

// Bad input gives the embedded pipeline's errors: a missing input file or
// test set fails with the stage's own message (the embedded runner adds
// which stage's inputs it was fingerprinting), before anything is crawled;
// a malformed line is logged with its file and line and skipped.
func TestBadInputErrors(t *testing.T) {
	w := world(t)
	dir := t.TempDir()
	srv := newCountingServer(t, w.Dir, -1)
	input := filepath.Join(dir, "records.jsonl")
	lines := []string{
		`{"id": "a", "url": "` + srv.URL + `/img/nope.jpg", "tags": ["dog"]}`,
		`{"id": "b", "url": `,
		`{"id": "c", "url": "` + srv.URL + `/img/nope2.jpg", "tags": ["cat"]}`,
		`["not", "an", "object"]`,
	}
	if err := os.WriteFile(input, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("missing input", func(t *testing.T) {
		cfg := testConfig(w, filepath.Join(dir, "no-such-dir", "records.jsonl"))
		_, _, embErr, beamErr := runBoth(t, cfg)
		if embErr == nil || beamErr == nil || !strings.HasSuffix(embErr.Error(), beamErr.Error()) ||
			!strings.Contains(beamErr.Error(), cfg.Ingest.Input) {
			t.Errorf("errors differ or do not name the input:\nembedded: %v\nbeam:     %v", embErr, beamErr)
		}
	})
	t.Run("missing test set", func(t *testing.T) {
		cfg := testConfig(w, input)
		cfg.Dedup.TestSets = []dedup.Spec{{Name: "target", Path: filepath.Join(dir, "no-such-testset"), Layout: datasets.LayoutAuto}}
		_, beamLog, embErr, beamErr := runBoth(t, cfg)
		if embErr == nil || beamErr == nil || !strings.HasSuffix(embErr.Error(), beamErr.Error()) ||
			!strings.Contains(beamErr.Error(), "flag --testset target=") {
			t.Errorf("errors differ or do not name the flag:\nembedded: %v\nbeam:     %v", embErr, beamErr)
		}
		if strings.Contains(beamLog, "chunks_crawled") {
			t.Errorf("beam crawled before failing on the test set:\n%s", beamLog)
		}
	})
	t.Run("malformed lines", func(t *testing.T) {
		cfg := testConfig(w, input)
		cfg.Dedup.TestSets = nil
		embLog, beamLog, _, beamErr := runBoth(t, cfg)
		if beamErr != nil {
			t.Fatalf("beam: %v", beamErr)
		}
		re := regexp.MustCompile(`(?m)^ingest: records\.jsonl:\d+: .*$`)
		want, got := re.FindAllString(embLog, -1), re.FindAllString(beamLog, -1)
		if len(want) != 2 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("bad lines logged by beam:\n%s\nwant (embedded):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("unreachable bucket", func(t *testing.T) {
		for _, in := range []string{"gs://weaksup-test-no-such-bucket/records.jsonl"} {
			cfg := testConfig(w, in)
			cfg.Dedup.TestSets = nil
			_, err := Run(context.Background(), Options{Workdir: filepath.Join(dir, "bucket"), Config: cfg, Runner: "prism"})
			if err == nil || !strings.HasPrefix(err.Error(), "open input") || !strings.Contains(err.Error(), "weaksup-test-no-such-bucket/records.jsonl") {
				t.Errorf("input %s: error %v, want one naming the input", in, err)
			}
		}
	})
}
