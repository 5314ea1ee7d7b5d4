package finetune

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"weaksup/datasets"
	"weaksup/loader"
	"weaksup/nets"
	"weaksup/progress"
	"weaksup/torch"
	"weaksup/train"
)

// forImages runs fn on every evaluation-mode batch of part's share of the
// images of split (center crop, split order; the loader gives rank r of W
// the images r, r+W, r+2W, …) as an image tensor on o.Device, without
// gradients, inside a scope per batch, starting at the share's image start
// (the ones before it were done before an interruption). It drives a
// progress bar labelled o.Label.
func forImages(ctx context.Context, split datasets.Split, numClasses int, part train.Part, start int, o ExtractOptions,
	fn func(x *torch.Tensor, b *loader.Batch) error) error {
	n := split.Len()
	if n == 0 {
		return errors.New("no images")
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	part.World = max(part.World, 1)
	src, err := loader.NewSplitSource(split, numClasses)
	if err != nil {
		return err
	}
	lc := loader.Config{Batch: min(o.Batch, n), ImageSize: o.ImageSize,
		NoShuffle: true, Targets: loader.TargetsNone, Epochs: 1, Workers: o.Workers, Transform: o.Transform,
		Rank: part.Rank, World: part.World}
	if start > 0 {
		lc.Resume = &loader.Position{Consumed: start, Rank: part.Rank, World: part.World, Sampling: loader.SamplingNatural, Items: n}
	}
	l, err := loader.New(src, lc)
	if err != nil {
		return err
	}
	defer l.Close()
	bar := progress.New(orDiscard(o.Log), int64(l.ItemsPerEpoch()), o.Label)
	bar.Add(int64(start))
	defer bar.Finish()
	for {
		b, err := l.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		err = func() error {
			defer b.Release()
			s := torch.NewScope()
			defer s.Close()
			return torch.NoGrad(func() error {
				x := torch.FromFloat32(b.Images[:b.N*3*b.Size*b.Size], int64(b.N), 3, int64(b.Size), int64(b.Size))
				if o.Device != torch.CPU {
					x = x.To(o.Device)
				}
				return o.Precision.Autocast(o.Device, func() error { return fn(x, b) })
			})
		}()
		if err != nil {
			return err
		}
		bar.Add(int64(b.N))
	}
}

// Score runs m in evaluation mode over the images of split and accumulates
// its accuracy.
func Score(ctx context.Context, m train.Model, split datasets.Split, numClasses int, o ExtractOptions) (*Accuracy, error) {
	if o.Label == "" {
		o.Label = "eval"
	}
	acc := NewAccuracy(numClasses)
	labels := make([]int32, 0, o.Batch)
	err := forImages(ctx, split, numClasses, train.Part{}, 0, o, func(x *torch.Tensor, b *loader.Batch) error {
		y, err := m.Forward(x, false)
		if err != nil {
			return err
		}
		if o.Device != torch.CPU {
			y = y.To(torch.CPU)
		}
		scores, err := y.ToDType(torch.Float32).Float32s()
		if err != nil {
			return err
		}
		labels = labels[:0]
		for j := 0; j < b.N; j++ {
			labels = append(labels, split.Class(b.Items[j]))
		}
		return acc.Add(scores, labels)
	})
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	return acc, nil
}

// RunInfo is finetune.json, written beside a fine-tuned network's
// model.safetensors: what eval needs to use it and what people need to
// know where it came from.
type RunInfo struct {
	Task      string           `json:"task"`
	Data      string           `json:"data"`
	Mode      string           `json:"mode"`
	From      string           `json:"from"`
	Weights   string           `json:"weights,omitempty"` // the file --from resolved to
	Arch      string           `json:"arch"`
	Block     string           `json:"block"`
	Shortcut  string           `json:"shortcut,omitempty"`
	ImageSize int              `json:"image_size"`
	Classes   []datasets.Class `json:"classes"`
	Config    Config           `json:"config"`
	Top1      float64          `json:"top1"`
	Top5      float64          `json:"top5"`
	Steps     int              `json:"steps"`
	// LR is the final run's learning rate; Trials, when the search chose
	// it, every candidate's score on the images carved out of the train
	// split.
	LR     float64 `json:"lr"`
	Trials []Trial `json:"trials,omitempty"`
}

// RunInfoFile is the name of RunInfo beside model.safetensors.
const RunInfoFile = "finetune.json"

// readRunInfo reads the finetune.json beside a weights file, if any.
func readRunInfo(weights string) (*RunInfo, error) {
	path := filepath.Join(filepath.Dir(weights), RunInfoFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read run info: %w", err)
	}
	var ri RunInfo
	if err := json.Unmarshal(b, &ri); err != nil {
		return nil, fmt.Errorf("read run info %s: %w", path, err)
	}
	return &ri, nil
}

// savedImageSize returns the image size a weights file was trained at, from
// finetune.json or a checkpoint's config.json ("extra": {"image_size": N}),
// or 0 when neither says.
func savedImageSize(weights string) int {
	if weights == "" {
		return 0
	}
	if ri, err := readRunInfo(weights); err == nil && ri != nil && ri.ImageSize > 0 {
		return ri.ImageSize
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(weights), train.ConfigFile))
	if err != nil {
		return 0
	}
	var c struct {
		Extra struct {
			ImageSize int `json:"image_size"`
		} `json:"extra"`
	}
	if json.Unmarshal(b, &c) != nil {
		return 0
	}
	return c.Extra.ImageSize
}

// defaultImageSize is the input side for an architecture on a task: 32
// for the CIFAR layouts, else 224 for the ImageNet stem and 64 for the
// small-image stem.
func defaultImageSize(a nets.Arch, task string) int {
	if isCIFAR(task) {
		return 32
	}
	if a.SmallStem {
		return 64
	}
	return 224
}

func jsonIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return append(b, '\n'), err
}

var now = time.Now
