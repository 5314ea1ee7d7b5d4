package train

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"weaksup/storage"
)

// runFiles is where a run writes. A local run directory is written in
// place, as it always was. A run directory at a gs:// or s3:// URL gets
// its metrics.jsonl and plots written into a local staging directory and
// uploaded (each object whole, atomically) before every checkpoint, after
// every evaluation and at the end; its checkpoints are written by
// saveCheckpointIn. So a crash loses at most the metrics rows after the
// last checkpoint, which a resumed run writes again, as locally.
type runFiles struct {
	out   *storage.Dir // the run directory at a URL; nil when local
	ck    *storage.Dir // its checkpoints/
	local string       // where metrics.jsonl and plots/ are written
	stage string       // the staging directory, removed on close
}

// openRunFiles opens (creating it if needed) the run directory cfg.Out.
// Only the writer (rank 0) stages files.
func openRunFiles(ctx context.Context, cfg Config, writer bool) (*runFiles, error) {
	if !storage.IsURL(cfg.Out) {
		if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
			return nil, fmt.Errorf("run training: %w", err)
		}
		return &runFiles{local: cfg.Out}, nil
	}
	out, err := storage.Create(ctx, cfg.Out, cfg.Storage)
	if err != nil {
		return nil, fmt.Errorf("run training: %w", err)
	}
	f := &runFiles{out: out}
	if f.ck, err = out.Sub("checkpoints"); err != nil {
		out.Close()
		return nil, err
	}
	if writer {
		if f.stage, err = os.MkdirTemp("", "weaksup-run-"); err != nil {
			out.Close()
			return nil, fmt.Errorf("run training: stage files for %s: %w", cfg.Out, err)
		}
		f.local = f.stage
	}
	return f, nil
}

func (f *runFiles) close() {
	if f.stage != "" {
		os.RemoveAll(f.stage)
	}
	if f.out != nil {
		f.out.Close()
	}
}

// pull copies name of a run directory at a URL into the staging
// directory, if it is there.
func (f *runFiles) pull(ctx context.Context, name string) error {
	if f.out == nil {
		return nil
	}
	data, err := f.out.ReadAll(ctx, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(f.local, filepath.FromSlash(name)), data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", f.out.URL(name), err)
	}
	return nil
}

// push uploads the staged files names (slash-separated, relative to the
// run directory) that exist to a run directory at a URL. Only the writer
// has any.
func (f *runFiles) push(ctx context.Context, names ...string) error {
	if f.out == nil || f.stage == "" {
		return nil
	}
	for _, name := range names {
		path := filepath.Join(f.local, filepath.FromSlash(name))
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := f.out.Upload(ctx, name, path); err != nil {
			return err
		}
	}
	return nil
}

// The files of a run directory besides its checkpoints.
var runPlots = []string{"plots/" + PlotLoss, "plots/" + PlotLR, "plots/" + PlotEval}

// The loop's checkpoint operations: the local code for a local run
// directory, the marked objects of checkpoint_url.go for one at a URL.
// Storage calls run under a context of their own: a checkpoint is saved
// after a cancellation too, and every request has the storage layer's
// deadlines.

func (r *run) listCheckpoints() ([]string, error) {
	if r.files.ck == nil {
		return ListCheckpoints(r.ckRoot)
	}
	return listCheckpointsIn(context.Background(), r.files.ck)
}

func (r *run) latestCheckpoint() (string, error) {
	cks, err := r.listCheckpoints()
	if err != nil {
		return "", err
	}
	if len(cks) == 0 {
		return "", fmt.Errorf("find checkpoint in %s: %w", r.ckRoot, ErrNoCheckpoint)
	}
	return cks[len(cks)-1], nil
}

func (r *run) loadCheckpoint(dir string) (CheckpointState, error) {
	if r.files.ck == nil {
		return LoadCheckpoint(dir, r.model, r.opt)
	}
	d, err := r.files.ck.Sub(filepath.Base(dir))
	if err != nil {
		return CheckpointState{}, err
	}
	return loadCheckpointIn(context.Background(), d, r.model, r.opt)
}

// saveCheckpoint writes the checkpoint of st. At a URL the metrics go
// first, so that those of every step up to a checkpoint are there when it
// is.
func (r *run) saveCheckpoint(st CheckpointState, config any) (string, error) {
	if r.files.ck == nil {
		return SaveCheckpoint(r.ckRoot, r.model, r.opt, st, config, r.cfg.Keep)
	}
	ctx := context.Background()
	if err := r.files.push(ctx, MetricsFile); err != nil {
		return "", fmt.Errorf("save checkpoint: %w", err)
	}
	return saveCheckpointIn(ctx, r.files.ck, r.model, r.opt, st, config, r.cfg.Keep)
}
