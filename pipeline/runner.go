package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"weaksup/store"
	"weaksup/workdir"
)

// Stage is one step of the pipeline.
type Stage struct {
	Name string
	// Config is the stage's configuration; its JSON form goes into the stage
	// record and a change makes the stage stale.
	Config any
	// Fingerprint returns a fingerprint of the stage's external inputs
	// (input files, test-set folders); nil when it has none. The runner
	// calls it right before Run, so a stage may hand Run what it listed.
	Fingerprint func() (string, error)
	// Run does the work and returns the stage's statistics for the stage
	// record; nil when there are none.
	Run func(ctx context.Context, st *store.Store, wd workdir.Dir, log io.Writer) (Result, error)
}

// Result is a stage's typed statistics (ingest.Stats, canonicalize.Stats,
// dedup.Summary, shards.Stats). The stage record keeps its JSON form, for
// code that reads it back with Record.DecodeStats, and its Counts, for
// display.
type Result interface {
	Counts() map[string]int64
}

// Runner runs stages in order over one working directory.
type Runner struct {
	Workdir workdir.Dir
	Stages  []Stage
	Log     io.Writer
	Force   bool // rerun stages even when up to date
}

// ErrUnknownStage is returned for a stage name the pipeline does not have.
var ErrUnknownStage = errors.New("unknown stage")

// State describes a stage as `pipeline status` shows it.
type State struct {
	Stage  string
	Status string // done, stale, failed, interrupted, not run
	Why    string // for stale: what changed
	Record *Record
}

// StageNames returns the names of the stages, in order.
func (r *Runner) StageNames() []string {
	names := make([]string, len(r.Stages))
	for i, s := range r.Stages {
		names[i] = s.Name
	}
	return names
}

// expected computes the config hash and input fingerprint a stage would
// have if it ran now, given the current records of the stages before it.
func (r *Runner) expected(i int) (cfg []byte, cfgHash, input string, err error) {
	s := r.Stages[i]
	cfg, cfgHash, err = hashJSON(s.Config)
	if err != nil {
		return nil, "", "", fmt.Errorf("encode config of stage %s: %w", s.Name, err)
	}
	parts := []string{s.Name}
	if s.Fingerprint != nil {
		fp, err := s.Fingerprint()
		if err != nil {
			return nil, "", "", fmt.Errorf("fingerprint inputs of stage %s: %w", s.Name, err)
		}
		parts = append(parts, fp)
	}
	if i > 0 {
		prev := r.Stages[i-1].Name
		rec, ok, err := ReadRecord(r.Workdir, prev)
		if err != nil {
			return nil, "", "", err
		}
		if ok && rec.Status == StatusDone {
			parts = append(parts, rec.ConfigHash, rec.InputFingerprint, rec.Finished.UTC().Format(time.RFC3339Nano))
		} else {
			parts = append(parts, "not-done")
		}
	}
	return cfg, cfgHash, hashStrings(parts...), nil
}

// Status returns the state of every stage.
func (r *Runner) Status() ([]State, error) {
	out := make([]State, 0, len(r.Stages))
	for i, s := range r.Stages {
		st := State{Stage: s.Name}
		rec, ok, err := ReadRecord(r.Workdir, s.Name)
		if err != nil {
			return nil, err
		}
		st.Record = rec
		switch {
		case !ok:
			st.Status = "not run"
		case rec.Status == StatusFailed:
			st.Status, st.Why = "failed", rec.Error
		case rec.Status == StatusRunning:
			st.Status, st.Why = "interrupted", "started "+rec.Started.Format(time.RFC3339)+" and never finished; run it again to resume"
		default:
			_, cfgHash, input, err := r.expected(i)
			switch {
			case err != nil:
				st.Status, st.Why = "stale", err.Error()
			case cfgHash != rec.ConfigHash:
				st.Status, st.Why = "stale", "config changed"
			case input != rec.InputFingerprint:
				st.Status, st.Why = "stale", "inputs changed"
			default:
				st.Status = "done"
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// Run runs the named stages ("all" or empty for every stage) in pipeline
// order. An up-to-date stage is skipped unless Force is set.
func (r *Runner) Run(ctx context.Context, names ...string) error {
	want, err := r.selection(names)
	if err != nil {
		return err
	}
	st, err := store.Open(r.Workdir.Store())
	if err != nil {
		return err
	}
	defer st.Close()
	log := r.Log
	if log == nil {
		log = io.Discard
	}
	for i, s := range r.Stages {
		if !want[s.Name] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.runStage(ctx, st, i, log); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) selection(names []string) (map[string]bool, error) {
	want := map[string]bool{}
	for _, n := range names {
		if n == "" || n == "all" {
			for _, s := range r.Stages {
				want[s.Name] = true
			}
			continue
		}
		found := false
		for _, s := range r.Stages {
			found = found || s.Name == n
		}
		if !found {
			return nil, fmt.Errorf("run stage %q: %w (stages: %s, or all)", n, ErrUnknownStage, strings.Join(r.StageNames(), ", "))
		}
		want[n] = true
	}
	if len(names) == 0 {
		return r.selection([]string{"all"})
	}
	return want, nil
}

func (r *Runner) runStage(ctx context.Context, st *store.Store, i int, log io.Writer) error {
	s := r.Stages[i]
	cfg, cfgHash, input, err := r.expected(i)
	if err != nil {
		return err
	}
	prev, ok, err := ReadRecord(r.Workdir, s.Name)
	if err != nil {
		return err
	}
	if !r.Force && ok && prev.Status == StatusDone && prev.ConfigHash == cfgHash && prev.InputFingerprint == input {
		fmt.Fprintf(log, "stage %s: up to date (finished %s), skipped; --force reruns it\n", s.Name, prev.Finished.Format(time.RFC3339))
		return nil
	}
	rec := &Record{Stage: s.Name, Status: StatusRunning, Config: cfg, ConfigHash: cfgHash, InputFingerprint: input, Started: time.Now().UTC()}
	if err := writeRecord(r.Workdir, rec); err != nil {
		return err
	}
	fmt.Fprintf(log, "stage %s: running\n", s.Name)
	res, runErr := s.Run(ctx, st, r.Workdir, log)
	if serr := st.Sync(); runErr == nil && serr != nil {
		runErr = fmt.Errorf("sync store: %w", serr)
	}
	rec.Finished = time.Now().UTC()
	rec.Seconds = rec.Finished.Sub(rec.Started).Seconds()
	if res != nil {
		rec.Counts = res.Counts()
		if rec.Stats, err = json.Marshal(res); err != nil {
			runErr = errors.Join(runErr, fmt.Errorf("encode statistics of stage %s: %w", s.Name, err))
		}
	}
	rec.Status = StatusDone
	if runErr != nil {
		rec.Status, rec.Error = StatusFailed, runErr.Error()
		if errors.Is(runErr, context.Canceled) {
			rec.Status, rec.Error = StatusRunning, "interrupted"
		}
	}
	if err := writeRecord(r.Workdir, rec); err != nil {
		return errors.Join(runErr, err)
	}
	if runErr != nil {
		return fmt.Errorf("stage %s: %w", s.Name, runErr)
	}
	fmt.Fprintf(log, "stage %s: done in %.1fs %s\n", s.Name, rec.Seconds, FormatCounts(rec.Counts))
	return nil
}

// FormatCounts renders counts as "k=v k=v" in key order.
func FormatCounts(c map[string]int64) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%s=%d", k, c[k])
	}
	return sb.String()
}
