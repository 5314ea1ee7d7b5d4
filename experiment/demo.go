package experiment

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"weaksup/datasets"
	"weaksup/demo"
	"weaksup/finetune"
	"weaksup/nets"
	"weaksup/pipeline"
	"weaksup/pretrain"
	"weaksup/shards"
	"weaksup/train"
	"weaksup/workdir"
)

// DemoConfig sizes one demo run.
type DemoConfig struct {
	Workdir string           `json:"workdir"`
	World   demo.WorldConfig `json:"world"`
	// Pretraining: a small ResNeXt on the hashtag shards.
	Arch          string `json:"arch"`
	ImageSize     int    `json:"image_size"`
	Batch         int    `json:"batch"`
	PretrainSteps int    `json:"pretrain_steps"`
	// Transfer to the target task, pretrained against from scratch with
	// the same budget.
	FinetuneEpochs int `json:"finetune_epochs"`
	// Transfer is how every transfer chooses its learning rate and, from
	// the pretrained weights, fine-tunes.
	Transfer finetune.Protocol `json:"transfer"`
	// PretrainLR is the base learning rate of pretraining, per 256 images.
	PretrainLR float64 `json:"pretrain_lr"`
	// CropScale is the smallest area of the random training crop in full
	// fine-tuning: at 32 px the ImageNet recipe's 0.08 leaves too little.
	CropScale   float64 `json:"crop_scale"`
	ProbeEpochs int     `json:"probe_epochs"`
	Threads     int     `json:"threads"`
	// Precision of pretraining, fine-tuning and feature extraction: a
	// --precision value (auto: bf16 where the machine runs it fast).
	Precision train.Precision `json:"precision"`
	Log       io.Writer       `json:"-"`
}

// QuickDemo is `weaksup demo --quick`: every stage on tiny sizes, well
// under a minute on two cores.
func QuickDemo(workdir string) DemoConfig {
	return DemoConfig{Workdir: workdir, World: demo.Quick(), Arch: "tiny", ImageSize: 32, Batch: 32,
		PretrainSteps: 40, PretrainLR: 0.1, FinetuneEpochs: 3, CropScale: 0.35, ProbeEpochs: 30, Precision: train.PrecisionAuto,
		Transfer: finetune.Protocol{LinearLRs: []float64{0.3, 3}, FullLRs: []float64{0.1, 1}}}
}

// DefaultDemo is `weaksup demo`: sized to finish in under 10 minutes on
// two cores, with the budget and transfer protocol of `weaksup findings`
// (FullSizes), so that its finding 1 measures this demo's comparison over
// paired seeds. The tiny net pretrains at 24 px for 1,000 steps at a base
// learning rate of 2 per 256 images (the paper's 0.1 is for ResNeXt-101
// at a batch of 8,064; at 0.1 the tiny net learned too little for full
// fine-tuning of its weights to beat training from scratch: BENCHMARKS.md,
// "The transfer protocol"). Full fine-tuning of the pretrained weights
// trains the backbone at a tenth of the head's rate.
func DefaultDemo(workdir string) DemoConfig {
	w := demo.Default()
	// Ten labelled images per class, as in the few-shot regime where
	// pretraining decides the score (CUB has about 30).
	w.TargetTrain = 10
	return DemoConfig{Workdir: workdir, World: w, Arch: "tiny", ImageSize: 24, Batch: 64,
		PretrainSteps: 1000, PretrainLR: 2, FinetuneEpochs: 30, CropScale: 0.35, ProbeEpochs: 100, Precision: train.PrecisionAuto,
		Transfer: finetune.Protocol{LinearLRs: finetune.DefaultLRs(finetune.ModeLinear), FullLRs: []float64{0.3, 1, 3}, Carve: finetune.DefaultCarve, PretrainedBackboneLRScale: 0.1}}
}

// Paths inside a demo working directory.
const (
	demoWorldDir  = "world"
	demoRunsDir   = "runs"
	demoPlotsDir  = "plots"
	DemoReport    = "report.md"
	DemoResults   = "results.json"
	pretrainRun   = "pretrain"
	transferTask  = datasets.ImageNet
	transferClass = "target"
)

// TransferResult is one transfer run on the target task.
type TransferResult struct {
	Mode  string  `json:"mode"` // full or linear
	Init  string  `json:"init"` // pretrained or scratch
	Top1  float64 `json:"top1"`
	Top5  float64 `json:"top5"`
	Out   string  `json:"out"`
	Steps int     `json:"steps"`
	// LR is the learning rate the search chose among Trials.
	LR     float64          `json:"lr"`
	Trials []finetune.Trial `json:"trials"`
}

// DemoResult is everything the report shows.
type DemoResult struct {
	Config   DemoConfig                  `json:"config"`
	Stages   map[string]map[string]int64 `json:"stages"`
	Dedup    DedupScore                  `json:"dedup"`
	Pretrain struct {
		Steps      int     `json:"steps"`
		Loss       float64 `json:"loss"`
		Precision1 float64 `json:"precision_at_1"`
		Precision5 float64 `json:"precision_at_5"`
		MAP        float64 `json:"map"`
		// TagAP is the held-out AP of every tag with positives, best first.
		TagAP      []pretrain.TagAP `json:"tag_ap,omitempty"`
		ImagesPerS float64          `json:"images_per_s"`
		Precision  train.Precision  `json:"precision"`
		Out        string           `json:"out"`
	} `json:"pretrain"`
	Transfer []TransferResult   `json:"transfer"`
	Seconds  map[string]float64 `json:"seconds"`
}

// RunDemo runs the whole system on a generated world: it serves the world
// on loopback, runs every pipeline stage, pretrains, transfers to the
// target task pretrained and from scratch, and writes report.md with plots.
// Every step resumes: a second run over the same working directory reuses
// what the first one finished.
func RunDemo(ctx context.Context, c DemoConfig) (*DemoResult, error) {
	log := c.Log
	if log == nil {
		log = io.Discard
	}
	res := &DemoResult{Config: c, Stages: map[string]map[string]int64{}, Seconds: map[string]float64{}}
	timed := func(name string, f func() error) error {
		t0 := time.Now()
		err := f()
		res.Seconds[name] = time.Since(t0).Seconds()
		return err
	}

	var w *World
	err := timed("world", func() (err error) {
		w, err = StartWorld(ctx, filepath.Join(c.Workdir, demoWorldDir), c.World, log)
		return err
	})
	if err != nil {
		return nil, err
	}
	defer w.Close()

	if err := timed("pipeline", func() error { return runDemoPipeline(ctx, c, w, res, log) }); err != nil {
		return nil, err
	}
	if err := timed("pretrain", func() error { return runDemoPretrain(ctx, c, res, log) }); err != nil {
		return nil, err
	}
	if err := timed("transfer", func() error { return runDemoTransfer(ctx, c, w, res, log) }); err != nil {
		return nil, err
	}
	if err := writeDemoReport(c.Workdir, w, res); err != nil {
		return nil, err
	}
	return res, nil
}

// PrepareDemoData generates and serves the demo world and runs every
// pipeline stage over it, without training: the input of the noise and
// scale experiments' --demo mode. It returns the shard directory and the
// target task's directory (ImageNet layout).
func PrepareDemoData(ctx context.Context, c DemoConfig) (shardsDir, target string, err error) {
	log := c.Log
	if log == nil {
		log = io.Discard
	}
	w, err := StartWorld(ctx, filepath.Join(c.Workdir, demoWorldDir), c.World, log)
	if err != nil {
		return "", "", err
	}
	defer w.Close()
	res := &DemoResult{Stages: map[string]map[string]int64{}}
	if err := runDemoPipeline(ctx, c, w, res, log); err != nil {
		return "", "", err
	}
	return workdir.Dir(c.Workdir).Shards(), filepath.Join(w.Dir, demo.TargetDir), nil
}

func runDemoPipeline(ctx context.Context, c DemoConfig, w *World, res *DemoResult, log io.Writer) error {
	cfg := PipelineConfig(w)
	r := &pipeline.Runner{Workdir: workdir.Dir(c.Workdir), Stages: cfg.Stages(), Log: log}
	if err := r.Run(ctx, "all"); err != nil {
		return err
	}
	states, err := r.Status()
	if err != nil {
		return err
	}
	for _, s := range states {
		if s.Record != nil {
			res.Stages[s.Stage] = s.Record.Counts
		}
	}
	res.Dedup, err = ScoreDedup(workdir.Dir(c.Workdir), w.World)
	if err != nil {
		return err
	}
	d := res.Dedup
	fmt.Fprintf(log, "dedup: caught %d of %d planted copies of target test images (recall %.0f%%), missed %d, %d false positives; %d more were failed by the server and never crawled\n",
		d.Caught, d.Planted, 100*d.Recall, d.Missed, d.FalsePositives, d.NotCrawled)
	return nil
}

func runDemoPretrain(ctx context.Context, c DemoConfig, res *DemoResult, log io.Writer) error {
	pc := pretrain.DefaultConfig()
	pc.Shards = workdir.Dir(c.Workdir).Shards()
	pc.Out = filepath.Join(c.Workdir, demoRunsDir, pretrainRun)
	pc.Arch, pc.ImageSize, pc.Batch, pc.Steps = c.Arch, c.ImageSize, c.Batch, c.PretrainSteps
	pc.WarmupEpochs, pc.LR = 0.5, c.PretrainLR
	pc.EvalEvery = max(c.PretrainSteps/5, 1)
	pc.CheckpointEvery = max(c.PretrainSteps/5, 1)
	pc.Keep = 2
	pc.Resume = true
	pc.Threads = c.Threads
	pc.Precision = c.Precision
	r, err := pretrain.Run(ctx, pc, log)
	if err != nil {
		return fmt.Errorf("pretrain: %w", err)
	}
	p := &res.Pretrain
	p.Steps, p.Loss, p.ImagesPerS, p.Out, p.Precision = r.Steps, r.Loss, r.ImagesPerS, pc.Out, r.Precision
	if r.Eval != nil {
		p.Precision1, p.Precision5, p.MAP = r.Eval.PrecisionAt1, r.Eval.PrecisionAt5, r.Eval.MAP
		m, err := shards.ReadManifest(pc.Shards)
		if err != nil {
			return err
		}
		p.TagAP = pretrain.TagAPs(r.Eval, m.Tags, 1)
	}
	return nil
}

func runDemoTransfer(ctx context.Context, c DemoConfig, w *World, res *DemoResult, log io.Writer) error {
	pretrained := filepath.Join(c.Workdir, demoRunsDir, pretrainRun)
	arch, err := nets.LookupArch(c.Arch)
	if err != nil {
		return err
	}
	for _, mode := range []string{finetune.ModeLinear, finetune.ModeFull} {
		for _, init := range []string{"pretrained", "scratch"} {
			fc := finetune.Config{
				Task: transferTask, Data: filepath.Join(w.Dir, demo.TargetDir), From: pretrained, Mode: mode,
				Out: filepath.Join(c.Workdir, demoRunsDir, mode+"-"+init), ImageSize: c.ImageSize,
				Seed: 1, Log: log, Resume: true, WeightDecay: 1e-4, Precision: c.Precision,
			}
			if init == "scratch" {
				fc.From, fc.Arch = finetune.FromNone, arch.Name
			}
			if mode == finetune.ModeFull {
				fc.Epochs, fc.Batch, fc.CropScale = c.FinetuneEpochs, 32, c.CropScale
			} else {
				fc.Epochs = c.ProbeEpochs
			}
			c.Transfer.Apply(&fc)
			fmt.Fprintf(log, "transfer: %s, %s\n", mode, init)
			r, err := finetune.Run(ctx, fc)
			if err != nil {
				return fmt.Errorf("transfer %s from %s: %w", mode, init, err)
			}
			res.Transfer = append(res.Transfer, TransferResult{Mode: mode, Init: init,
				Top1: r.Metrics.Top1, Top5: r.Metrics.Top5, Out: fc.Out, Steps: r.Steps, LR: r.LR, Trials: r.Trials})
		}
	}
	return nil
}

// ChosenLRs says which learning rate the search chose for each arm of a
// mode, for the summary line.
func (r *DemoResult) ChosenLRs(mode string) string {
	var parts []string
	for _, t := range r.Transfer {
		if t.Mode == mode {
			parts = append(parts, fmt.Sprintf("%s %g", t.Init, t.LR))
		}
	}
	return strings.Join(parts, ", ")
}

// Accuracy returns the top-1 accuracy of a transfer run.
func (r *DemoResult) Accuracy(mode, init string) (float64, bool) {
	for _, t := range r.Transfer {
		if t.Mode == mode && t.Init == init {
			return t.Top1, true
		}
	}
	return 0, false
}
