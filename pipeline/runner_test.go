package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"weaksup/store"
	"weaksup/workdir"
)

// countingStages builds a two-stage pipeline whose stages write to the
// store and count how often they ran.
type countingStages struct {
	runs     map[string]int
	cfgA     struct{ Size int }
	inputFP  string
	failB    bool
	workdirs []workdir.Dir
}

func (c *countingStages) runner(wd workdir.Dir, log io.Writer) *Runner {
	return &Runner{Workdir: wd, Log: log, Stages: []Stage{
		{Name: "a", Config: c.cfgA, Fingerprint: func() (string, error) { return c.inputFP, nil },
			Run: func(ctx context.Context, st *store.Store, wd workdir.Dir, log io.Writer) (Result, error) {
				c.runs["a"]++
				c.workdirs = append(c.workdirs, wd)
				return &testStats{Records: 3}, st.PutRecord(&store.Record{ID: fmt.Sprint(c.runs["a"]), Outcome: "ok"}, nil)
			}},
		{Name: "b", Config: map[string]string{"k": "v"},
			Run: func(ctx context.Context, st *store.Store, wd workdir.Dir, log io.Writer) (Result, error) {
				c.runs["b"]++
				if c.failB {
					return &testStats{Partial: 1}, errors.New("disk on fire")
				}
				n, err := st.Count()
				return &testStats{Seen: int64(n)}, err
			}},
	}}
}

// testStats is a stage's typed result.
type testStats struct {
	Records int64 `json:"records,omitempty"`
	Seen    int64 `json:"seen,omitempty"`
	Partial int64 `json:"partial,omitempty"`
}

func (s *testStats) Counts() map[string]int64 {
	c := map[string]int64{}
	for k, v := range map[string]int64{"records": s.Records, "seen": s.Seen, "partial": s.Partial} {
		if v != 0 {
			c[k] = v
		}
	}
	return c
}

func statuses(t *testing.T, r *Runner) []string {
	t.Helper()
	states, err := r.Status()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range states {
		out = append(out, s.Stage+":"+s.Status)
	}
	return out
}

func TestRunSkipsUpToDateAndDetectsStaleness(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	c := &countingStages{runs: map[string]int{}, inputFP: "in1"}
	var log bytes.Buffer
	r := c.runner(dir, &log)
	ctx := context.Background()

	if got, want := statuses(t, r), []string{"a:not run", "b:not run"}; !reflect.DeepEqual(got, want) {
		t.Errorf("before run: %v, want %v", got, want)
	}
	if err := r.Run(ctx, "all"); err != nil {
		t.Fatal(err)
	}
	if err := r.Run(ctx, "all"); err != nil {
		t.Fatal(err)
	}
	if c.runs["a"] != 1 || c.runs["b"] != 1 {
		t.Errorf("runs after two runs = %v, want a=1 b=1 (second run skipped)", c.runs)
	}
	if !strings.Contains(log.String(), "stage a: up to date") {
		t.Errorf("log does not say the stage was skipped:\n%s", log.String())
	}
	rec, ok, err := ReadRecord(dir, "b")
	if err != nil || !ok || rec.Status != StatusDone || !reflect.DeepEqual(rec.Counts, map[string]int64{"seen": 1}) {
		t.Errorf("record b = %+v, %v, %v; want done with seen=1", rec, ok, err)
	}
	// The record keeps the typed statistics too.
	var stats testStats
	if ok, err := rec.DecodeStats(&stats); !ok || err != nil || stats != (testStats{Seen: 1}) {
		t.Errorf("record b statistics = %+v, %v, %v; want Seen 1", stats, ok, err)
	}

	// Changed external input: a is stale, and so is b downstream once a reruns.
	c.inputFP = "in2"
	if got, want := statuses(t, r), []string{"a:stale", "b:done"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after input change: %v, want %v", got, want)
	}
	if err := r.Run(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got, want := statuses(t, r), []string{"a:done", "b:stale"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after rerunning a: %v, want %v", got, want)
	}
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if c.runs["a"] != 2 || c.runs["b"] != 2 {
		t.Errorf("runs = %v, want a=2 b=2", c.runs)
	}

	// A missing input makes the stage stale and says why, without failing
	// the status of the others.
	c.inputFP = ""
	r.Stages[0].Fingerprint = func() (string, error) { return "", errors.New("stat records.jsonl: no such file") }
	states, err := r.Status()
	if err != nil {
		t.Fatal(err)
	}
	if states[0].Status != "stale" || !strings.Contains(states[0].Why, "records.jsonl") || states[1].Status != "done" {
		t.Errorf("with a missing input: %+v %+v, want a stale, naming the file; b done", states[0], states[1])
	}
	c.inputFP = "in2"

	// Changed config.
	c.cfgA.Size = 7
	r = c.runner(dir, &log)
	if got, want := statuses(t, r), []string{"a:stale", "b:done"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after config change: %v, want %v", got, want)
	}

	// Force reruns an up-to-date stage.
	r = c.runner(dir, &log)
	r.Force = true
	if err := r.Run(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if c.runs["b"] != 3 {
		t.Errorf("b runs after --force = %d, want 3", c.runs["b"])
	}
	for _, wd := range c.workdirs {
		if wd != dir {
			t.Errorf("stage got workdir %q, want %q", wd, dir)
		}
	}
}

func TestFailedStageIsRecorded(t *testing.T) {
	dir := workdir.Dir(t.TempDir())
	c := &countingStages{runs: map[string]int{}, failB: true}
	r := c.runner(dir, nil)
	err := r.Run(context.Background(), "all")
	if err == nil || !strings.Contains(err.Error(), "stage b: disk on fire") {
		t.Fatalf("Run err = %v, want stage b failure", err)
	}
	rec, _, _ := ReadRecord(dir, "b")
	if rec.Status != StatusFailed || rec.Error != "disk on fire" || rec.Counts["partial"] != 1 {
		t.Errorf("record = %+v", rec)
	}
	if got, want := statuses(t, r), []string{"a:done", "b:failed"}; !reflect.DeepEqual(got, want) {
		t.Errorf("status = %v, want %v", got, want)
	}
	// A failed stage reruns on the next run; a done one does not.
	c.failB = false
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.runs["a"] != 1 || c.runs["b"] != 2 {
		t.Errorf("runs = %v, want a=1 b=2", c.runs)
	}
}

func TestUnknownStage(t *testing.T) {
	c := &countingStages{runs: map[string]int{}}
	err := c.runner(workdir.Dir(t.TempDir()), nil).Run(context.Background(), "shardz")
	if !errors.Is(err, ErrUnknownStage) || !strings.Contains(err.Error(), "a, b") {
		t.Errorf("err = %v, want ErrUnknownStage listing the stages", err)
	}
}
