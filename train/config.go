package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"weaksup/loader"
	"weaksup/nets"
	"weaksup/storage"
	"weaksup/torch"
)

// Batches is where the loop gets its images: a *loader.Loader, over hashtag
// shards (loader.Open) for pretraining or over a split of a labelled
// dataset (loader.New with a loader.SplitSource) for fine-tuning.
// Batch.Labels drive the loss targets (Targets builds them), so a loader may
// use any loader.Targets* mode, TargetsNone included.
type Batches interface {
	// Next returns the next batch, io.EOF after the last one.
	Next(ctx context.Context) (*loader.Batch, error)
	// Position is where a loader opened with it as Resume continues.
	Position() loader.Position
	// StepsPerEpoch is the number of batches per epoch.
	StepsPerEpoch() int
	// NumClasses is K, the width of the targets.
	NumClasses() int
	Close() error
}

var _ Batches = (*loader.Loader)(nil)

// Data opens the loop's batches. Each opener is given the Part of the data
// this process reads (loader.Config's Rank and World).
type Data struct {
	// Train opens the training batches, continuing after resume (nil: from
	// the start). It should not end before the run does (Epochs 0 in
	// loader.Config); a run whose data ends early stops there. A
	// data-parallel run needs every rank to yield the same number of
	// batches (DropLast).
	Train func(part Part, resume *loader.Position) (Batches, error)
	// Val opens one pass over the held-out batches (evaluation transform,
	// Epochs 1, in order: NoShuffle). Nil skips evaluation.
	Val func(part Part) (Batches, error)
}

// Model is what the loop trains. *ResNeXt is one.
type Model interface {
	// Forward returns logits [N, K]; train selects batch statistics.
	Forward(x *torch.Tensor, train bool) (*torch.Tensor, error)
	// Features returns the pooled features that feed the head.
	Features(x *torch.Tensor, train bool) (*torch.Tensor, error)
	// Parameters returns the state_dict, parameters and buffers.
	Parameters() []nets.Param
	// Head returns the final linear layer's weight and bias.
	Head() []*torch.Tensor
}

var _ Model = (*nets.ResNeXt)(nil)

// Config is one training run. Pretraining and fine-tuning differ only in
// their Config and Data: fine-tuning passes a model with a new head (or
// FreezeBackbone for a linear probe) and batches of labelled image files.
type Config struct {
	// Out is the run directory: checkpoints/, metrics.jsonl, plots/. It
	// may be a gs:// or s3:// URL, reached with Storage (nil: the storage
	// layer's defaults).
	Out     string           `json:"out"`
	Storage *storage.Options `json:"-"`
	// Label names the run on the progress bar ("pretrain", "finetune").
	Label string `json:"label"`
	// Steps is the number of optimizer steps; 0 means Epochs × the
	// optimizer steps per epoch.
	Steps  int `json:"steps"`
	Epochs int `json:"epochs"`
	// Batch is the number of images per loader batch; Accumulate batches
	// make one optimizer step (gradient accumulation), so the effective
	// batch, which scales the learning rate, is Batch × Accumulate.
	Batch      int `json:"batch"`
	Accumulate int `json:"accumulate"`
	// Schedule is the learning-rate schedule; Run fills its Batch and
	// TotalSteps, and WarmupSteps from WarmupEpochs when that is set.
	// WarmupEpochs, when set, gives the warm-up in epochs (capped at a
	// fifth of the run, so short runs still decay); StepEpochs, when set,
	// gives the step decay interval in epochs.
	Schedule     Schedule  `json:"schedule"`
	WarmupEpochs float64   `json:"warmup_epochs"`
	StepEpochs   float64   `json:"step_epochs"`
	Loss         string    `json:"loss"` // LossSoftmax (default) or LossSigmoid
	SGD          SGDConfig `json:"sgd"`
	// Precision is the arithmetic of the forward pass: fp32 (also ""),
	// bf16 or fp16 (autocast; fp32 master weights and optimizer state).
	// Auto must be resolved with ChoosePrecision first. fp16 scales the
	// loss (DefaultLossScaling unless LossScaling says otherwise);
	// LossScaling turns loss scaling on for any precision.
	Precision   Precision    `json:"precision,omitempty"`
	LossScaling *LossScaling `json:"loss_scaling,omitempty"`
	// FreezeBackbone trains the head alone on features computed without
	// gradients and with batch norm in evaluation mode (a linear probe).
	FreezeBackbone bool `json:"freeze_backbone"`
	// CheckpointEvery saves a checkpoint every so many steps, and
	// CheckpointInterval when that much time has passed since the last one
	// (either may be 0). The end of the run, an interruption and each
	// evaluation save one too. Keep is how many to keep (0: all).
	CheckpointEvery    int           `json:"checkpoint_every"`
	CheckpointInterval time.Duration `json:"checkpoint_interval"`
	Keep               int           `json:"keep"`
	// EvalEvery evaluates every so many steps; 0 means once per epoch, < 0
	// only at the end. EvalImages caps the held-out images an evaluation
	// reads (0: all): the evaluator keeps images × classes scores.
	EvalEvery  int `json:"eval_every"`
	EvalImages int `json:"eval_images"`
	// EvalAtStart also evaluates the untrained model before the first step
	// of a fresh run, so the curves start at chance level.
	EvalAtStart bool `json:"eval_at_start"`
	// LogEvery writes a training row every so many steps (default 10).
	LogEvery int `json:"log_every"`
	// Resume continues from the newest checkpoint in Out (a fresh start
	// when there is none).
	Resume bool `json:"-"`
	// NoPlots skips drawing PNG plots of the metrics.
	NoPlots bool         `json:"no_plots"`
	Device  torch.Device `json:"-"`
	// Log receives the progress bar and messages; nil discards them.
	Log io.Writer `json:"-"`
	// Extra is recorded in each checkpoint's config.json (architecture,
	// data directory, seed: what the caller needs to rebuild the model).
	Extra map[string]any `json:"extra,omitempty"`
	// Parallel shares the run with the other ranks of a data-parallel job
	// (package ddp); nil is Alone, one process. The global batch is Batch
	// × Accumulate × world size, and only rank 0 writes checkpoints,
	// metrics, plots and progress (AllRanksLog lets every rank write to
	// Log).
	Parallel    Parallel `json:"-"`
	AllRanksLog bool     `json:"-"`
}

// Result summarizes a finished run.
type Result struct {
	Steps      int         // optimizer steps done
	Loss       float64     // mean training loss over the last logged steps
	Eval       *EvalResult // the last evaluation, nil without Val
	Checkpoint string      // the final checkpoint directory
	ImagesPerS float64     // training throughput: images over the wall time of the steps (data waits included; evaluation and checkpoints not), of all ranks
	Precision  Precision   // of the forward pass
	Rank       int         // this process's data-parallel rank (0 in one process)
}

// ErrNonFinite is wrapped by the error of a run whose loss became NaN or
// infinite.
var ErrNonFinite = errors.New("loss is not finite")

// ErrRunExists is wrapped by the error of a fresh (not resuming) run whose
// output directory already holds checkpoints.
var ErrRunExists = errors.New("run directory already has checkpoints")

// CheckpointsDir returns the checkpoint directory of a run directory, a
// local path or a gs:// or s3:// URL.
func CheckpointsDir(out string) string { return joinLoc(out, "checkpoints") }

func (c *Config) fill() error {
	if c.Out == "" {
		return fmt.Errorf("check training config: no output directory")
	}
	if c.Label == "" {
		c.Label = "train"
	}
	if c.Accumulate == 0 {
		c.Accumulate = 1
	}
	if c.LogEvery == 0 {
		c.LogEvery = 10
	}
	if c.Loss == "" {
		c.Loss = LossSoftmax
	}
	if c.Schedule.Decay == "" {
		c.Schedule.Decay = DecayCosine
	}
	switch {
	case c.Batch < 1:
		return fmt.Errorf("check training config: batch %d, want ≥ 1", c.Batch)
	case c.Accumulate < 1:
		return fmt.Errorf("check training config: accumulate %d, want ≥ 1", c.Accumulate)
	case c.Steps < 0 || c.Epochs < 0 || (c.Steps == 0 && c.Epochs == 0):
		return fmt.Errorf("check training config: %d steps and %d epochs, want one of them > 0", c.Steps, c.Epochs)
	case c.Keep < 0 || c.CheckpointEvery < 0 || c.CheckpointInterval < 0:
		return fmt.Errorf("check training config: negative checkpoint setting")
	}
	return CheckLoss(c.Loss)
}
