package train

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"weaksup/storage"
)

// A run directory at a gs:// or s3:// URL keeps each checkpoint as objects
// under checkpoints/step-NNNNNNNNN/: the files of a local checkpoint,
// written (in a local staging directory, by the local code) and uploaded
// first, then CheckpointMarker, which lists them with their sizes and
// SHA-256. Object stores have no rename of a directory, so the marker is
// what makes a checkpoint complete: readers take only checkpoints with
// one, and check every file they read against it, so that neither a writer
// killed halfway nor a file replaced under a reader goes unnoticed. The
// objects of a checkpoint without its marker (a writer that died while
// uploading) are ignored and removed by the next save. Replacing or
// pruning a checkpoint deletes its marker first.

// CheckpointMarker is the last object written of a checkpoint at a URL.
const CheckpointMarker = "checkpoint.json"

// checkpointFiles are the files of a checkpoint, in the order uploaded.
var checkpointFiles = []string{ModelFile, OptimizerFile, StateFile, ConfigFile}

type checkpointManifest struct {
	Version int              `json:"version"`
	Step    int              `json:"step"`
	Files   []checkpointFile `json:"files"`
}

type checkpointFile struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// joinLoc is the location of name inside dir, a local path or a URL.
func joinLoc(dir, name string) string {
	if storage.IsURL(dir) {
		return strings.TrimSuffix(dir, "/") + "/" + name
	}
	return filepath.Join(dir, name)
}

// checkpointSteps lists the checkpoint names under root (the checkpoints
// directory), complete ones (with a marker) and incomplete ones, each by
// step, oldest first.
func checkpointSteps(ctx context.Context, root *storage.Dir) (complete, incomplete []string, err error) {
	objs, err := root.List(ctx, checkpointPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("list checkpoints in %s: %w", root, err)
	}
	marked := map[string]bool{}
	for _, o := range objs {
		name, file, ok := strings.Cut(o.Key, "/")
		if !ok || stepOf(name) < 0 {
			continue
		}
		marked[name] = marked[name] || file == CheckpointMarker
	}
	for name, m := range marked {
		if m {
			complete = append(complete, name)
		} else {
			incomplete = append(incomplete, name)
		}
	}
	byStep := func(s []string) {
		sort.Slice(s, func(i, j int) bool { return stepOf(s[i]) < stepOf(s[j]) })
	}
	byStep(complete)
	byStep(incomplete)
	return complete, incomplete, nil
}

// listCheckpointsIn is ListCheckpoints of a checkpoints directory at a URL:
// the complete checkpoints' URLs.
func listCheckpointsIn(ctx context.Context, root *storage.Dir) ([]string, error) {
	complete, _, err := checkpointSteps(ctx, root)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(complete))
	for i, name := range complete {
		out[i] = root.URL(name)
	}
	return out, nil
}

// saveCheckpointIn is SaveCheckpoint to a checkpoints directory at a URL:
// the checkpoint is written locally by SaveCheckpoint, uploaded file by
// file and then marked complete; then all but the newest keep complete
// checkpoints and every incomplete one are removed.
func saveCheckpointIn(ctx context.Context, root *storage.Dir, model Model, opt *Optimizer, st CheckpointState, config any, keep int) (string, error) {
	name := CheckpointName(st.Step)
	url := root.URL(name)
	stage, err := os.MkdirTemp("", "weaksup-checkpoint-")
	if err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", url, err)
	}
	defer os.RemoveAll(stage)
	local, err := SaveCheckpoint(stage, model, opt, st, config, 0)
	if err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", url, err)
	}
	d, err := root.Sub(name)
	if err != nil {
		return "", err
	}
	// A checkpoint of the same step (a run resumed from an older one that
	// reached this step again) is replaced: unmarked first, so that no
	// reader takes its old files with new ones.
	if err := d.Delete(ctx, CheckpointMarker); err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", url, err)
	}
	m := checkpointManifest{Version: checkpointVersion, Step: st.Step}
	for _, f := range checkpointFiles {
		path := filepath.Join(local, f)
		sum, size, err := hashFile(path)
		if err != nil {
			return "", fmt.Errorf("save checkpoint %s: %w", url, err)
		}
		if err := d.Upload(ctx, f, path); err != nil {
			return "", fmt.Errorf("save checkpoint %s: %w", url, err)
		}
		m.Files = append(m.Files, checkpointFile{Name: f, Bytes: size, SHA256: sum})
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", url, err)
	}
	if err := d.WriteFile(ctx, CheckpointMarker, append(data, '\n')); err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", url, err)
	}
	if err := pruneCheckpointsIn(ctx, root, keep); err != nil {
		return url, err
	}
	return url, nil
}

// pruneCheckpointsIn removes all but the newest keep complete checkpoints
// (keep ≤ 0 keeps all) and every incomplete one: only rank 0 writes, and
// it does not prune while it uploads, so an unmarked checkpoint is a
// leftover of a writer that died.
func pruneCheckpointsIn(ctx context.Context, root *storage.Dir, keep int) error {
	complete, incomplete, err := checkpointSteps(ctx, root)
	if err != nil {
		return fmt.Errorf("prune checkpoints: %w", err)
	}
	gone := incomplete
	if keep > 0 && len(complete) > keep {
		gone = append(gone, complete[:len(complete)-keep]...)
	}
	for _, name := range gone {
		if err := deleteCheckpointIn(ctx, root, name); err != nil {
			return err
		}
	}
	return nil
}

// deleteCheckpointIn removes checkpoint name, its marker first.
func deleteCheckpointIn(ctx context.Context, root *storage.Dir, name string) error {
	d, err := root.Sub(name)
	if err != nil {
		return err
	}
	if err := d.Delete(ctx, CheckpointMarker); err != nil {
		return fmt.Errorf("prune checkpoint %s: %w", d, err)
	}
	objs, err := d.List(ctx, "")
	if err != nil {
		return fmt.Errorf("prune checkpoint %s: %w", d, err)
	}
	for _, o := range objs {
		if err := d.Delete(ctx, o.Key); err != nil {
			return fmt.Errorf("prune checkpoint %s: %w", d, err)
		}
	}
	return nil
}

// readCheckpointManifest reads the marker of the checkpoint in d; a
// checkpoint without one is incomplete.
func readCheckpointManifest(ctx context.Context, d *storage.Dir) (checkpointManifest, error) {
	var m checkpointManifest
	data, err := d.ReadAll(ctx, CheckpointMarker)
	if errors.Is(err, fs.ErrNotExist) {
		return m, fmt.Errorf("load checkpoint %s: %w: no %s (an interrupted save)", d, ErrNoCheckpoint, CheckpointMarker)
	}
	if err != nil {
		return m, fmt.Errorf("load checkpoint %s: %w", d, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("load checkpoint %s: parse %s: %w", d, CheckpointMarker, err)
	}
	if m.Version != checkpointVersion {
		return m, fmt.Errorf("load checkpoint %s: format version %d, this weaksup reads %d", d, m.Version, checkpointVersion)
	}
	return m, nil
}

func (m checkpointManifest) file(name string) (checkpointFile, bool) {
	for _, f := range m.Files {
		if f.Name == name {
			return f, true
		}
	}
	return checkpointFile{}, false
}

// errCheckpointChanged is wrapped when a checkpoint file is not the one its
// marker lists.
var errCheckpointChanged = errors.New("does not match the checkpoint's marker")

// fetchCheckpointFile copies file name of the checkpoint in d to a local
// file, checked against the marker, and returns it with what removes it.
func fetchCheckpointFile(ctx context.Context, d *storage.Dir, m checkpointManifest, name string) (string, func(), error) {
	want, ok := m.file(name)
	if !ok {
		return "", nil, fmt.Errorf("load checkpoint %s: %s lists no %s", d, CheckpointMarker, name)
	}
	path, release, err := d.Local(ctx, name)
	if err != nil {
		return "", nil, fmt.Errorf("load checkpoint %s: %w", d, err)
	}
	sum, size, err := hashFile(path)
	if err == nil && (sum != want.SHA256 || size != want.Bytes) {
		err = fmt.Errorf("%s (%d bytes, SHA-256 %s) %w (%d bytes, %s)", d.URL(name), size, sum, errCheckpointChanged, want.Bytes, want.SHA256)
	}
	if err != nil {
		release()
		return "", nil, fmt.Errorf("load checkpoint %s: %w", d, err)
	}
	return path, release, nil
}

// readCheckpointStateIn is ReadCheckpointState of the checkpoint in d,
// with its marker.
func readCheckpointStateIn(ctx context.Context, d *storage.Dir) (CheckpointState, checkpointManifest, error) {
	var st CheckpointState
	m, err := readCheckpointManifest(ctx, d)
	if err != nil {
		return st, m, err
	}
	path, release, err := fetchCheckpointFile(ctx, d, m, StateFile)
	if err != nil {
		return st, m, err
	}
	defer release()
	data, err := os.ReadFile(path)
	if err == nil {
		st, err = parseState(data)
	}
	if err != nil {
		return st, m, fmt.Errorf("load checkpoint %s: %w", d, err)
	}
	return st, m, nil
}

// loadCheckpointIn is LoadCheckpoint of the checkpoint in d.
func loadCheckpointIn(ctx context.Context, d *storage.Dir, model Model, opt *Optimizer) (CheckpointState, error) {
	st, m, err := readCheckpointStateIn(ctx, d)
	if err != nil {
		return st, err
	}
	modelPath, release, err := fetchCheckpointFile(ctx, d, m, ModelFile)
	if err != nil {
		return st, err
	}
	defer release()
	var optPath string
	if opt != nil {
		p, release, err := fetchCheckpointFile(ctx, d, m, OptimizerFile)
		if err != nil {
			return st, err
		}
		defer release()
		optPath = p
	}
	return st, loadTensors(d.String(), modelPath, optPath, model, opt)
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// openURL opens the location loc, a gs:// or s3:// URL, with the storage
// layer's defaults (endpoint and credentials from the environment).
func openURL(loc string) (*storage.Dir, error) {
	return storage.Open(context.Background(), loc, nil)
}

// stepOf reads the step of a checkpoint name, -1 if it is not one.
func stepOf(name string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(name, checkpointPrefix))
	if !strings.HasPrefix(name, checkpointPrefix) || err != nil {
		return -1
	}
	return n
}
