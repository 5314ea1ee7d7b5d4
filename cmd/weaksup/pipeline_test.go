package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"weaksup/store"
	"weaksup/workdir"
)

// pipelineWorkdir is a working directory whose store holds five crawled
// records, as the ingest stage leaves them.
func pipelineWorkdir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(workdir.Dir(dir).Store())
	if err != nil {
		t.Fatal(err)
	}
	for id, tags := range map[string][]string{
		"a": {"BrownBears", "dogs"}, "b": {"bruin"}, "c": {"dog"}, "d": {"goldfish"}, "e": {"nofilter", "happy"},
	} {
		if err := st.PutRecord(&store.Record{ID: id, RawTags: tags, Outcome: store.OutcomeOK}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// pipeline run writes the stage record that pipeline status and vocab show
// read back.
func TestPipelineRunStatusAndVocabShow(t *testing.T) {
	dir := pipelineWorkdir(t)
	code, out, errOut := runCaptured(t, "pipeline", "run", "--workdir", dir, "--stage", "canonicalize")
	if code != 0 {
		t.Fatalf("pipeline run: exit %d: %s", code, errOut)
	}
	if out != "" {
		t.Errorf("pipeline run wrote %q to stdout, want its log on stderr only", out)
	}
	if !strings.Contains(errOut, "stage canonicalize: done") {
		t.Errorf("pipeline run log lacks the stage's end:\n%s", errOut)
	}

	code, out, errOut = runCaptured(t, "pipeline", "status", "--workdir", dir)
	if code != 0 {
		t.Fatalf("pipeline status: exit %d: %s", code, errOut)
	}
	for _, re := range []string{
		`(?m)^STAGE +STATUS +FINISHED +SECONDS +COUNTS$`,
		`(?m)^ingest +not run +- +- +$`,
		`(?m)^canonicalize +done +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\d+\.\d +concepts=3 dropped=1 hashtags=7 labelled=4 mapped=5 records=5 unmapped=2 unmapped_not_noun=1 unmapped_unknown=1 vocab=3$`,
		`(?m)^dedup +not run `,
		`(?m)^shards +not run `,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("pipeline status output does not match %s:\n%s", re, out)
		}
	}

	code, out, errOut = runCaptured(t, "vocab", "show", "--workdir", dir, "--top", "2")
	if code != 0 {
		t.Fatalf("vocab show: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"tags      3\n",
		"records   5: 4 labelled (80.0%), 1 dropped (no_vocab_tag)\n",
		"hashtags  7 distinct: 5 mapped to WordNet nouns (71.4%); unmapped: 1 unknown, 1 not_noun\n",
		"ID  TAG        WNID       IMAGES  MEMBERS\n",
		"brownbear  n02132136  2       brownbear,bruin\n",
		"dog        n02084071  2       dog\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("vocab show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "goldfish") {
		t.Errorf("vocab show --top 2 lists a third tag:\n%s", out)
	}
}

// The embedded pipeline refuses a working directory in a bucket (its store
// is a local database) rather than make a local directory named "s3:".
func TestPipelineRefusesURLWorkdir(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, sub := range []string{"run", "status"} {
		code, _, errOut := runCaptured(t, "pipeline", sub, "--workdir", "s3://bucket/work")
		if code != 1 || !strings.Contains(errOut, "--workdir s3://bucket/work") || !strings.Contains(errOut, "--runner") {
			t.Fatalf("pipeline %s --workdir s3://bucket/work: exit %d, stderr %q; want an error naming the flag and --runner", sub, code, errOut)
		}
	}
	if left, _ := filepath.Glob("*"); len(left) != 0 {
		t.Fatalf("the current directory holds %v", left)
	}
}
