package findings

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"weaksup/finetune"
	"weaksup/loader"
	"weaksup/pretrain"
	"weaksup/runs"
	"weaksup/shards"
	"weaksup/train"
)

// PretrainArm is the pretraining half of an arm.
type PretrainArm struct {
	Data     string  `json:"data"` // data variant
	Arch     string  `json:"arch"`
	Noise    float64 `json:"noise"`
	Fraction float64 `json:"fraction"`
	Loss     string  `json:"loss"`
	Sampling string  `json:"sampling"`
	Seed     uint64  `json:"seed"`
}

// String names the arm in progress lines.
func (a PretrainArm) String() string {
	return fmt.Sprintf("%s data=%s noise=%g fraction=%g loss=%s sampling=%s seed=%d", a.Arch, a.Data, a.Noise, a.Fraction, a.Loss, a.Sampling, a.Seed)
}

// Pretrained is a finished pretraining run.
type Pretrained struct {
	Dir    string            `json:"dir"`
	Steps  int               `json:"steps"`
	Loss   float64           `json:"loss"`
	Eval   *train.EvalResult `json:"eval"`
	Tags   []string          `json:"tags"`
	Images int               `json:"images"` // training images the fraction selects
}

// TransferArm is the transfer half of an arm: From nil starts from
// scratch. Its learning rate is chosen by finetune's search on a part
// carved out of the target's training images, the same way for every arm.
type TransferArm struct {
	From   *PretrainArm `json:"from"`
	Arch   string       `json:"arch"` // from scratch
	Mode   string       `json:"mode"`
	Task   string       `json:"task"`
	Target string       `json:"target"`
	Seed   uint64       `json:"seed"`
}

// Transferred is a finished transfer run.
type Transferred struct {
	Dir  string  `json:"dir"`
	Top1 float64 `json:"top1"`
	Top5 float64 `json:"top5"`
	// LR is the learning rate the search chose; Carved its top-1 on the
	// images carved out of the target's training split.
	LR     float64 `json:"lr"`
	Carved float64 `json:"carved"`
}

// runner runs arms, each in a directory named by a hash of its full
// configuration under out/runs, reusing finished ones.
type runner struct {
	cfg  Config
	src  *Sources
	log  io.Writer
	runs int // runs done or reused so far, for progress lines
}

func (r *runner) progress(format string, a ...any) {
	r.runs++
	fmt.Fprintf(r.log, "findings: [run %d] "+format+"\n", append([]any{r.runs}, a...)...)
}

// hashDir returns the run directory of configuration v under out/runs.
func (r *runner) hashDir(kind string, v any) (string, error) {
	return runs.HashDir(filepath.Join(r.cfg.Out, "runs"), kind, v)
}

// pretrainConfig is the full pretraining configuration of an arm (Out
// left empty: it is named by the hash of the rest).
func (r *runner) pretrainConfig(a PretrainArm) (pretrain.Config, error) {
	s := r.cfg.Sizes
	dir, err := r.src.shards(a.Data)
	if err != nil {
		return pretrain.Config{}, err
	}
	pc := pretrain.DefaultConfig()
	pc.Shards, pc.Arch, pc.ImageSize, pc.Batch, pc.Steps = dir, a.Arch, s.ImageSize, s.Batch, s.Steps
	pc.Noise, pc.Fraction, pc.Loss, pc.Sampling, pc.Seed = a.Noise, a.Fraction, a.Loss, a.Sampling, a.Seed
	pc.WarmupEpochs, pc.EvalEvery, pc.EvalImages = 0.5, -1, s.EvalImages
	if s.LR > 0 {
		pc.LR = s.LR
	}
	pc.CheckpointEvery, pc.Keep, pc.NoPlots = max(s.Steps/4, 1), 1, true
	pc.Device, pc.Precision = r.cfg.Device, r.cfg.Precision
	return pc, nil
}

// pretrain runs (or reuses) the pretraining of an arm.
func (r *runner) pretrain(ctx context.Context, a PretrainArm) (*Pretrained, error) {
	pc, err := r.pretrainConfig(a)
	if err != nil {
		return nil, err
	}
	// The directory is named by the data's content too: the same path
	// rebuilt with other settings holds other shards.
	data, err := r.src.fingerprint(pc.Shards)
	if err != nil {
		return nil, err
	}
	if pc.Out, err = r.hashDir("pretrain", struct {
		pretrain.Config
		Data string `json:"data"`
	}{pc, data}); err != nil {
		return nil, err
	}
	res, reused, err := runs.Do(pc.Out, func() (Pretrained, error) {
		r.progress("pretrain %s: %d steps into %s", a, pc.Steps, pc.Out)
		pc.Resume, pc.Threads = true, r.cfg.Threads
		tr, err := pretrain.Run(ctx, pc, r.log)
		if err != nil {
			return Pretrained{}, fmt.Errorf("pretrain %s: %w", a, err)
		}
		m, err := shards.ReadManifest(pc.Shards)
		if err != nil {
			return Pretrained{}, err
		}
		res := Pretrained{Dir: pc.Out, Steps: tr.Steps, Loss: tr.Loss, Eval: tr.Eval, Tags: m.Tags, Images: m.Splits[shards.SplitTrain].Rows}
		if split, ok := m.Splits[shards.SplitTrain]; ok {
			res.Images = loader.SubsetLen(split.Blocks(), a.Fraction)
		}
		return res, nil
	})
	if reused {
		r.progress("pretrain %s: reused %s", a, pc.Out)
	}
	return &res, err
}

// transfer runs (or reuses) the transfer of an arm to the target task.
func (r *runner) transfer(ctx context.Context, t TransferArm) (*Transferred, error) {
	s := r.cfg.Sizes
	fc := finetune.Config{Task: t.Task, Data: t.Target, Mode: t.Mode, ImageSize: s.ImageSize, Seed: t.Seed,
		WeightDecay: 1e-4, DeviceName: r.cfg.Device, Precision: r.cfg.Precision}
	what := "scratch " + t.Arch
	if t.From != nil {
		p, err := r.pretrain(ctx, *t.From)
		if err != nil {
			return nil, err
		}
		fc.From, what = p.Dir, "pretrained "+t.From.String()
	} else {
		fc.From, fc.Arch = finetune.FromNone, t.Arch
	}
	if t.Mode == finetune.ModeFull {
		fc.Epochs, fc.Batch, fc.CropScale = s.FinetuneEpochs, 32, s.CropScale
	} else {
		fc.Epochs = s.ProbeEpochs
	}
	s.Transfer.Apply(&fc)
	target, err := r.src.fingerprint(fc.Data)
	if err != nil {
		return nil, err
	}
	if fc.Out, err = r.hashDir("transfer", struct {
		finetune.Config
		Target string `json:"target"`
	}{fc, target}); err != nil {
		return nil, err
	}
	res, reused, err := runs.Do(fc.Out, func() (Transferred, error) {
		r.progress("transfer %s to %s from %s into %s", t.Mode, t.Target, what, fc.Out)
		fc.Resume, fc.Log = true, r.log
		fr, err := finetune.Run(ctx, fc)
		if err != nil {
			return Transferred{}, fmt.Errorf("transfer %s from %s: %w", t.Mode, what, err)
		}
		tr := Transferred{Dir: fc.Out, Top1: fr.Metrics.Top1, Top5: fr.Metrics.Top5, LR: fr.LR}
		for _, c := range fr.Trials {
			if c.LR == fr.LR {
				tr.Carved = c.Top1
			}
		}
		return tr, nil
	})
	if reused {
		r.progress("transfer %s from %s: reused %s", t.Mode, what, fc.Out)
	}
	return &res, err
}
