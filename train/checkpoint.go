package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"weaksup/loader"
	"weaksup/nets"
	"weaksup/storage"
	"weaksup/torch"
)

// Checkpoint file names inside a checkpoint directory.
const (
	ModelFile     = "model.safetensors"     // state_dict in torchvision naming
	OptimizerFile = "optimizer.safetensors" // momentum buffers named after their parameters
	StateFile     = "state.json"            // CheckpointState
	ConfigFile    = "config.json"           // the run's configuration, for people and tools
)

// checkpointPrefix starts the name of every checkpoint directory:
// step-000001200 holds the state after 1200 optimizer steps.
const checkpointPrefix = "step-"

// checkpointVersion is the format version of state.json.
const checkpointVersion = 1

// ErrNoCheckpoint is returned by LatestCheckpoint when a directory holds no
// complete checkpoint.
var ErrNoCheckpoint = errors.New("no checkpoint")

// CheckpointState is everything but the tensors that a run needs to
// continue exactly where it stopped.
type CheckpointState struct {
	Version int              `json:"version"`
	Step    int              `json:"step"`   // optimizer steps done
	Epoch   int              `json:"epoch"`  // epoch of the next batch
	Images  int64            `json:"images"` // training images consumed
	Loader  *loader.Position `json:"loader,omitempty"`
	// RNG is libtorch's CPU generator state, CUDARNG the current CUDA
	// device's (when training on one).
	RNG     []byte    `json:"rng,omitempty"`
	CUDARNG []byte    `json:"cuda_rng,omitempty"`
	Loss    float64   `json:"loss"` // last logged training loss
	Saved   time.Time `json:"saved"`
	// Precision is the arithmetic of the forward pass; GradScaler the loss
	// scaler's state when the run scales its loss (fp16).
	Precision  Precision        `json:"precision,omitempty"`
	GradScaler *GradScalerState `json:"grad_scaler,omitempty"`
	// World is the number of data-parallel processes that trained it and
	// GlobalBatch their images per step (0 in older checkpoints: one
	// process); Loader is rank 0's position.
	World       int `json:"world,omitempty"`
	GlobalBatch int `json:"global_batch,omitempty"`
}

// CheckpointName returns the directory name of the checkpoint after step
// steps.
func CheckpointName(step int) string { return fmt.Sprintf("%s%09d", checkpointPrefix, step) }

// ListCheckpoints returns the complete checkpoint directories under root,
// oldest (fewest steps) first. Temporary directories of an interrupted save
// are not listed. root may be a gs:// or s3:// URL: the checkpoints with a
// marker are listed (see CheckpointMarker).
func ListCheckpoints(root string) ([]string, error) {
	if storage.IsURL(root) {
		d, err := openURL(root)
		if err != nil {
			return nil, fmt.Errorf("list checkpoints in %s: %w", root, err)
		}
		defer d.Close()
		return listCheckpointsIn(context.Background(), d)
	}
	ents, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list checkpoints in %s: %w", root, err)
	}
	type ck struct {
		step int
		dir  string
	}
	var cks []ck
	for _, e := range ents {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, checkpointPrefix) {
			continue
		}
		step, err := strconv.Atoi(strings.TrimPrefix(name, checkpointPrefix))
		if err != nil {
			continue
		}
		cks = append(cks, ck{step, filepath.Join(root, name)})
	}
	sort.Slice(cks, func(i, j int) bool { return cks[i].step < cks[j].step })
	out := make([]string, len(cks))
	for i, c := range cks {
		out[i] = c.dir
	}
	return out, nil
}

// LatestCheckpoint returns the checkpoint directory under root with the
// most steps, or an error wrapping ErrNoCheckpoint.
func LatestCheckpoint(root string) (string, error) {
	cks, err := ListCheckpoints(root)
	if err != nil {
		return "", err
	}
	if len(cks) == 0 {
		return "", fmt.Errorf("find checkpoint in %s: %w", root, ErrNoCheckpoint)
	}
	return cks[len(cks)-1], nil
}

// SaveCheckpoint writes a checkpoint directory under root atomically: the
// files go into a temporary directory, each is fsynced, the directory is
// renamed to CheckpointName(st.Step) and root is fsynced, so a crash leaves
// either the whole checkpoint or none. Then all but the newest keep
// checkpoints are removed (keep ≤ 0 keeps all), with any temporary
// directories left by an interrupted save. config is written as
// config.json. It returns the new directory. root may be a gs:// or s3://
// URL (see CheckpointMarker).
func SaveCheckpoint(root string, model Model, opt *Optimizer, st CheckpointState, config any, keep int) (string, error) {
	if storage.IsURL(root) {
		ctx := context.Background()
		d, err := storage.Create(ctx, root, nil)
		if err != nil {
			return "", fmt.Errorf("save checkpoint %s: %w", joinLoc(root, CheckpointName(st.Step)), err)
		}
		defer d.Close()
		return saveCheckpointIn(ctx, d, model, opt, st, config, keep)
	}
	final := filepath.Join(root, CheckpointName(st.Step))
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	tmp, err := os.MkdirTemp(root, ".tmp-"+CheckpointName(st.Step)+"-")
	if err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	defer os.RemoveAll(tmp)
	st.Version = checkpointVersion
	if st.Saved.IsZero() {
		st.Saved = time.Now().UTC()
	}
	meta := map[string]string{"step": strconv.Itoa(st.Step), "format": "weaksup checkpoint"}
	if err := nets.SaveTensors(filepath.Join(tmp, ModelFile), model.Parameters(), meta); err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	var state []nets.Param
	if opt != nil {
		state = opt.State()
	}
	if err := nets.SaveTensors(filepath.Join(tmp, OptimizerFile), state, meta); err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	if err := writeJSON(filepath.Join(tmp, StateFile), st); err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	if err := writeJSON(filepath.Join(tmp, ConfigFile), config); err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	if err := syncDir(tmp); err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	// A checkpoint of the same step (a run resumed from an older one that
	// reached this step again) is replaced.
	if err := os.RemoveAll(final); err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	if err := syncDir(root); err != nil {
		return "", fmt.Errorf("save checkpoint %s: %w", final, err)
	}
	if err := pruneCheckpoints(root, keep); err != nil {
		return final, err
	}
	return final, nil
}

// pruneCheckpoints removes all but the newest keep checkpoints and any
// temporary directories of interrupted saves.
func pruneCheckpoints(root string, keep int) error {
	ents, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("prune checkpoints in %s: %w", root, err)
	}
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), ".tmp-"+checkpointPrefix) {
			if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
				return fmt.Errorf("prune checkpoints in %s: %w", root, err)
			}
		}
	}
	if keep <= 0 {
		return nil
	}
	cks, err := ListCheckpoints(root)
	if err != nil {
		return err
	}
	for len(cks) > keep {
		if err := os.RemoveAll(cks[0]); err != nil {
			return fmt.Errorf("prune checkpoint %s: %w", cks[0], err)
		}
		cks = cks[1:]
	}
	return nil
}

// ReadCheckpointState reads the state of a checkpoint directory (its
// state.json), checking the format version. dir may be a checkpoint at a
// gs:// or s3:// URL (see CheckpointMarker).
func ReadCheckpointState(dir string) (CheckpointState, error) {
	if storage.IsURL(dir) {
		d, err := openURL(dir)
		if err != nil {
			return CheckpointState{}, fmt.Errorf("load checkpoint %s: %w", dir, err)
		}
		defer d.Close()
		st, _, err := readCheckpointStateIn(context.Background(), d)
		return st, err
	}
	data, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return CheckpointState{}, fmt.Errorf("load checkpoint %s: %w", dir, err)
	}
	st, err := parseState(data)
	if err != nil {
		return st, fmt.Errorf("load checkpoint %s: %w", dir, err)
	}
	return st, nil
}

// parseState decodes a state.json, checking the format version.
func parseState(data []byte) (CheckpointState, error) {
	var st CheckpointState
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("parse %s: %w", StateFile, err)
	}
	if st.Version != checkpointVersion {
		return st, fmt.Errorf("format version %d, this weaksup reads %d", st.Version, checkpointVersion)
	}
	return st, nil
}

// LoadCheckpoint restores the model's tensors and, when opt is not nil,
// the optimizer's momentum from a checkpoint directory, and returns its
// state. The model must have the architecture the checkpoint was saved
// from: every name must match both ways with equal shapes. dir may be a
// checkpoint at a gs:// or s3:// URL; each of its files is checked against
// its marker.
func LoadCheckpoint(dir string, model Model, opt *Optimizer) (CheckpointState, error) {
	if storage.IsURL(dir) {
		d, err := openURL(dir)
		if err != nil {
			return CheckpointState{}, fmt.Errorf("load checkpoint %s: %w", dir, err)
		}
		defer d.Close()
		return loadCheckpointIn(context.Background(), d, model, opt)
	}
	st, err := ReadCheckpointState(dir)
	if err != nil {
		return st, err
	}
	return st, loadTensors(dir, filepath.Join(dir, ModelFile), filepath.Join(dir, OptimizerFile), model, opt)
}

// loadTensors loads the weights at modelPath into model and, when opt is
// not nil, the momentum at optPath into opt; errors name dir.
func loadTensors(dir, modelPath, optPath string, model Model, opt *Optimizer) error {
	if err := LoadWeights(modelPath, model); err != nil {
		return fmt.Errorf("load checkpoint %s: %w", dir, err)
	}
	if opt != nil {
		state, _, err := nets.LoadTensors(optPath)
		if err != nil {
			return fmt.Errorf("load checkpoint %s: %w", dir, err)
		}
		err = opt.SetState(state)
		for _, p := range state {
			p.Tensor.Close()
		}
		if err != nil {
			return fmt.Errorf("load checkpoint %s: %w", dir, err)
		}
	}
	return nil
}

// LoadWeights copies every tensor of a safetensors state_dict into the
// model's tensor of the same name (converting dtype, device and layout).
// The names must match both ways, with equal shapes. path may be a gs://
// or s3:// URL.
func LoadWeights(path string, model Model) error {
	if storage.IsURL(path) {
		i := strings.LastIndex(path, "/")
		d, err := openURL(path[:i])
		if err != nil {
			return fmt.Errorf("load weights %s: %w", path, err)
		}
		defer d.Close()
		local, release, err := d.Local(context.Background(), path[i+1:])
		if err != nil {
			return fmt.Errorf("load weights %s: %w", path, err)
		}
		defer release()
		return loadWeights(local, path, model)
	}
	return loadWeights(path, path, model)
}

// loadWeights is LoadWeights of the file at local, named path in errors.
func loadWeights(local, path string, model Model) error {
	saved, _, err := nets.LoadTensors(local)
	if err != nil {
		return err
	}
	defer func() {
		for _, p := range saved {
			p.Tensor.Close()
		}
	}()
	params := model.Parameters()
	byName := make(map[string]*torch.Tensor, len(params))
	for _, p := range params {
		byName[p.Name] = p.Tensor
	}
	if len(saved) != len(params) {
		return fmt.Errorf("load weights %s: %d tensors, the model has %d", path, len(saved), len(params))
	}
	return torch.NoGrad(func() error {
		for _, s := range saved {
			dst, ok := byName[s.Name]
			if !ok {
				return fmt.Errorf("load weights %s: tensor %q is not in the model", path, s.Name)
			}
			if got, want := fmt.Sprint(s.Tensor.Shape()), fmt.Sprint(dst.Shape()); got != want {
				return fmt.Errorf("load weights %s: tensor %q has shape %s, the model's %s", path, s.Name, got, want)
			}
			if err := dst.CopyFrom(s.Tensor); err != nil {
				return fmt.Errorf("load weights %s: tensor %q: %w", path, s.Name, err)
			}
		}
		return nil
	})
}

// writeJSON writes v as indented JSON to path and fsyncs it.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return writeFileSync(path, append(data, '\n'))
}

// writeFileSync creates path with data and fsyncs it before closing.
func writeFileSync(path string, data []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}

// syncDir fsyncs a directory so that renames and new entries in it survive
// a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
