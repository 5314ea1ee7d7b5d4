package finetune

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"weaksup/datasets"
	"weaksup/train"
)

// EvalConfig is one evaluation: a fine-tuned network on a split of a
// dataset. It shares Config's dataset, weights and input flags.
type EvalConfig struct {
	Config
	Split string `json:"split"` // default val
}

// RegisterFlags adds the eval flags to fs.
func (c *EvalConfig) RegisterFlags(fs *flag.FlagSet) {
	c.registerCommon(fs)
	fs.StringVar(&c.Split, "split", datasets.SplitVal, "split to evaluate: train or val")
	fs.StringVar(&c.Out, "out", "", "directory for metrics.json and confusion.png (default: eval-<task>-<split> beside the weights)")
	fs.IntVar(&c.Batch, "batch", 64, "images per forward pass")
}

// Eval runs the network of cfg.From (with the classifier it was fine-tuned
// with) over a split and writes metrics.json and, for at most
// MaxConfusionClasses classes, confusion.png into cfg.Out. When the
// weights have a finetune.json beside them, its class list must match the
// dataset's and its image size is the default.
func Eval(ctx context.Context, cfg EvalConfig) (*Metrics, error) {
	switch {
	case cfg.Data == "":
		return nil, errors.New("check config: no --data directory")
	case cfg.From == "" || cfg.From == FromNone:
		return nil, errors.New("check config: --from must name fine-tuned weights")
	}
	if cfg.Split == "" {
		cfg.Split = datasets.SplitVal
	}
	if err := cfg.parseDevice(); err != nil {
		return nil, err
	}
	ds, err := datasets.Open(cfg.Task, cfg.Data, cfg.Dataset)
	if err != nil {
		return nil, err
	}
	split, err := ds.Split(cfg.Split)
	if err != nil {
		return nil, err
	}
	weights, err := ResolveFrom(cfg.From)
	if err != nil {
		return nil, err
	}
	ri, err := readRunInfo(weights)
	if err != nil {
		return nil, err
	}
	if ri != nil && !slices.Equal(classIDs(ri.Classes), classIDs(ds.Classes())) {
		return nil, fmt.Errorf("evaluate %s: it was fine-tuned on %d classes of %s %s that differ from the %d classes of %s %s",
			weights, len(ri.Classes), ri.Task, ri.Data, len(ds.Classes()), cfg.Task, cfg.Data)
	}
	k := len(ds.Classes())
	prec, err := cfg.Precision.Resolve(cfg.Device, train.Alone{}, "", cfg.Log, "eval")
	if err != nil {
		return nil, err
	}
	m, _, err := NewModel(ModelConfig{From: weights, Arch: cfg.Arch, Classes: k, KeepHead: true, Device: cfg.Device})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	size := cfg.ImageSize
	if size == 0 {
		size = savedImageSize(weights)
	}
	if size == 0 {
		size = defaultImageSize(m.Options().Arch, cfg.Task)
	}
	if cfg.Out == "" {
		cfg.Out = filepath.Join(filepath.Dir(weights), fmt.Sprintf("eval-%s-%s", cfg.Task, cfg.Split))
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	_, evalTf := Transforms(cfg.Task, size, 0)
	acc, err := Score(ctx, m, split, k, ExtractOptions{ImageSize: size, Batch: cfg.Batch, Workers: cfg.Workers,
		Device: cfg.Device, Precision: prec, Log: cfg.Log, Label: "eval " + cfg.Split, Transform: &evalTf})
	if err != nil {
		return nil, err
	}
	met := acc.Metrics(ds.Classes())
	met.Task, met.Data, met.Split, met.From = cfg.Task, cfg.Data, cfg.Split, cfg.From
	if ri != nil {
		met.Mode = ri.Mode
	}
	if err := writeReport(cfg.Out, &met, ds.Classes()); err != nil {
		return nil, err
	}
	logf(cfg.Log, "eval: %s %s top-1 %.4f top-5 %.4f mean per-class %.4f (%d images); wrote %s\n",
		cfg.Task, cfg.Split, met.Top1, met.Top5, met.MeanPerClass, met.Images, cfg.Out)
	return &met, nil
}

func classIDs(cs []datasets.Class) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}
