package resnets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"weaksup/loader"
	"weaksup/nets"
	"weaksup/runs"
	"weaksup/torch"
	"weaksup/train"
)

// Net is one network of a residual-network experiment.
type Net struct {
	Key      string    `json:"key"`   // directory and table row: "plain56", "skipinit0-110"
	Label    string    `json:"label"` // legend: "plain-56", "SkipInit α=0"
	Group    string    `json:"group"` // plots and tables group nets by it: "plain", "resnet", a variant
	Arch     nets.Arch `json:"arch"`
	Block    string    `json:"block"`    // train.Block name; "" is the arch's own
	Shortcut string    `json:"shortcut"` // "auto", "A", "B"
	Alpha    string    `json:"alpha"`    // SkipInit's initial alpha: "0" or "1/sqrt(d)"
	Init     string    `json:"init"`     // "msra" or "xavier"
}

// options returns the model options of n for classes classes.
func (n Net) options(classes int) (nets.Options, error) {
	o := nets.Options{Arch: n.Arch, NumClasses: classes, ChannelsLast: true}
	var err error
	if n.Block != "" {
		if o.Block, err = nets.ParseBlock(n.Block); err != nil {
			return o, fmt.Errorf("net %s: %w", n.Key, err)
		}
	}
	if n.Shortcut != "" {
		if o.Shortcut, err = nets.ParseShortcut(n.Shortcut); err != nil {
			return o, fmt.Errorf("net %s: %w", n.Key, err)
		}
	}
	if n.Alpha != "" {
		if o.Alpha, err = nets.ParseAlpha(n.Alpha); err != nil {
			return o, fmt.Errorf("net %s: %w", n.Key, err)
		}
	}
	switch n.Init {
	case "", nets.MSRA.String():
	case nets.Xavier.String():
		o.Init = nets.Xavier
	default:
		return o, fmt.Errorf("net %s: init %q, want msra or xavier", n.Key, n.Init)
	}
	return o, nil
}

// Recipe is the training schedule of every net of an experiment. The
// default (PaperRecipe) is He et al.'s for CIFAR.
type Recipe struct {
	Batch       int     `json:"batch"`
	LR          float64 `json:"lr"` // at Batch (not per 256 images)
	Momentum    float64 `json:"momentum"`
	WeightDecay float64 `json:"weight_decay"`
	// Steps is the run length in optimizer steps; Epochs, when set,
	// overrides it with that many passes over the training images.
	Steps      int     `json:"steps"`
	Epochs     int     `json:"epochs,omitempty"`
	Milestones []int   `json:"milestones"` // steps at which the LR is multiplied by Gamma
	Gamma      float64 `json:"gamma"`
	// MilestoneFractions, when set, places the milestones at these
	// fractions of the run instead (0.5, 0.75 is the paper's 32k, 48k of
	// 64k).
	MilestoneFractions []float64 `json:"milestone_fractions,omitempty"`
	WarmupSteps        int       `json:"warmup_steps"`
	// TrainImages, when set, trains on the first TrainImages images of
	// the training split only; TestImages likewise for the test split.
	TrainImages int `json:"train_images,omitempty"`
	TestImages  int `json:"test_images,omitempty"`
	// EvalTrain is how many training images (the first) the training
	// error is measured on after each epoch, in evaluation mode without
	// augmentation (0: all).
	EvalTrain int    `json:"eval_train"`
	Seed      uint64 `json:"seed"`
	Workers   int    `json:"workers"`
}

// PaperRecipe is He et al.'s CIFAR schedule (CVPR 2016, §4.2): SGD with
// momentum 0.9 and weight decay 1e-4, batch 128, learning rate 0.1 divided
// by 10 at 32k and 48k iterations, 64k iterations in all; the training
// error after each epoch is measured on 10,000 training images.
func PaperRecipe() Recipe {
	return Recipe{Batch: 128, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-4, Steps: 64000,
		Milestones: []int{32000, 48000}, Gamma: 0.1, EvalTrain: 10000, Seed: 1}
}

// EpochPoint is a net's state after an epoch (or the run's last, partial
// one).
type EpochPoint struct {
	Epoch      float64 `json:"epoch"`
	Step       int     `json:"step"`
	TrainError float64 `json:"train_error"` // on Recipe.EvalTrain training images, evaluation mode
	TrainLoss  float64 `json:"train_loss"`
	TestError  float64 `json:"test_error"`
	TestLoss   float64 `json:"test_loss"`
	Seconds    float64 `json:"seconds"` // training wall time so far (evaluation excluded)
}

// LossPoint is a logged training loss (mean over the steps since the
// previous one).
type LossPoint struct {
	Step int     `json:"step"`
	Loss float64 `json:"loss"`
}

// Run states.
const (
	StatusDone     = "done"
	StatusDiverged = "diverged" // the training loss became NaN or infinite
	StatusRunning  = "running"  // interrupted, or still going
)

// NetResult is what a net did: its size, curve and fate.
type NetResult struct {
	Net        Net          `json:"net"`
	Block      string       `json:"block_built"`    // the design built (the arch's own resolved)
	Shortcut   string       `json:"shortcut_built"` // A or B
	Params     int64        `json:"params"`
	Depth      int          `json:"depth"`
	Status     string       `json:"status"`
	DivergedAt int          `json:"diverged_at,omitempty"` // step whose loss was not finite
	Steps      int          `json:"steps"`                 // planned
	Curve      []EpochPoint `json:"curve"`
	Loss       []LossPoint  `json:"loss"`
	EvalSecs   float64      `json:"eval_seconds"`
	Dir        string       `json:"dir"`
}

// Final returns the last point of the curve (zero without one).
func (r NetResult) Final() EpochPoint {
	if len(r.Curve) == 0 {
		return EpochPoint{}
	}
	return r.Curve[len(r.Curve)-1]
}

// Verdict says in a few words whether the net trained: "diverged at step
// N", "did not learn" (final training error within 5 points of chance for
// classes classes) or "trains".
func (r NetResult) Verdict(classes int) string {
	switch {
	case r.Status == StatusDiverged:
		return fmt.Sprintf("diverged at step %d", r.DivergedAt)
	case len(r.Curve) == 0:
		return "not run"
	case r.Final().TrainError > 1-1/float64(classes)-0.05:
		return "did not learn"
	case r.Status != StatusDone:
		return "incomplete"
	}
	return "trains"
}

// Runs trains a list of nets from scratch on a CIFAR-format dataset
// with one recipe, each in <Workdir>/<Name>/<Key>, and measures training
// and test error after every epoch. Everything resumes: a finished or
// diverged net is not trained again, an interrupted one continues from its
// last checkpoint (saved at least every epoch and every 10 minutes).
type Runs struct {
	Name    string // "depth", "init", "width"
	Workdir string
	Data    *Data
	Recipe  Recipe
	Nets    []Net
	Device  torch.Device
	Log     io.Writer
}

// runRecord is what a net directory was trained with (runs.Claim): a
// rerun with anything else is refused rather than mixed in.
type runRecord struct {
	Net    Net    `json:"net"`
	Recipe Recipe `json:"recipe"`
	Data   string `json:"data"`
}

// Run trains every net in turn and returns their results.
func (e *Runs) Run(ctx context.Context) ([]NetResult, error) {
	log := e.Log
	if log == nil {
		log = io.Discard
	}
	if err := torch.Load(); err != nil {
		return nil, err
	}
	var out []NetResult
	for _, n := range e.Nets {
		r, err := e.runNet(ctx, n, log)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

var divergedStep = regexp.MustCompile(`step (\d+) \(lr`)

func (e *Runs) runNet(ctx context.Context, n Net, log io.Writer) (NetResult, error) {
	dir := filepath.Join(e.Workdir, e.Name, n.Key)
	rc := e.Recipe
	opts, err := n.options(e.Data.Classes)
	if err != nil {
		return NetResult{}, err
	}
	sum, err := nets.Summarize(opts, 32)
	if err != nil {
		return NetResult{}, err
	}
	trainSrc, testSrc, err := e.sources()
	if err != nil {
		return NetResult{}, err
	}
	perEpoch := trainSrc.Len() / rc.Batch
	if perEpoch < 1 {
		return NetResult{}, fmt.Errorf("%s %s: %d training images make no batch of %d", e.Name, n.Key, trainSrc.Len(), rc.Batch)
	}
	total, milestones := rc.plan(perEpoch)
	res := NetResult{Net: n, Block: sum.Block.String(), Shortcut: sum.Shortcut.String(), Params: sum.Params, Depth: sum.Depth,
		Status: StatusRunning, Steps: total, Dir: dir}
	rec := runRecord{Net: n, Recipe: rc, Data: e.Data.About}
	if err := runs.Claim(dir, rec); err != nil {
		return res, err
	}
	if old, err := readResult(dir); err != nil {
		return res, err
	} else if old != nil {
		res.Curve, res.Status, res.DivergedAt, res.EvalSecs = old.Curve, old.Status, old.DivergedAt, old.EvalSecs
	}
	if res.Status == StatusDone || res.Status == StatusDiverged {
		fmt.Fprintf(log, "%s: %s: %s (recorded in %s)\n", e.Name, n.Key, res.Verdict(e.Data.Classes), dir)
		res.Loss, _ = readLoss(dir)
		return res, nil
	}
	if err := torch.ManualSeed(rc.Seed); err != nil {
		return res, err
	}
	opts.Device = e.Device
	opts.ChannelsLast = e.Device.Type == torch.DeviceCPU
	model, err := nets.NewResNeXt(opts)
	if err != nil {
		return res, err
	}
	defer model.Close()
	fmt.Fprintf(log, "%s: %s: %d layers, %s parameters, %d steps of %d (%d per epoch)\n",
		e.Name, n.Key, sum.Depth, nets.Millions(sum.Params), total, rc.Batch, perEpoch)
	data := train.Data{Train: func(part train.Part, resume *loader.Position) (train.Batches, error) {
		return loader.New(trainSrc, loader.Config{Batch: rc.Batch, ImageSize: 32, Train: true, Seed: rc.Seed,
			Targets: loader.TargetsNone, DropLast: true, Workers: rc.Workers, Transform: e.Data.transform(true), Resume: resume,
			Rank: part.Rank, World: part.World})
	}}
	base := 0.0
	if len(res.Curve) > 0 {
		base = res.Final().Seconds
	}
	for step := res.Final().Step; step < total; {
		end := min((step/perEpoch+1)*perEpoch, total)
		cfg := train.Config{Out: dir, Label: e.Name + " " + n.Key, Steps: end, Batch: rc.Batch,
			Schedule: train.Schedule{BaseLR: rc.LR * train.ReferenceBatch / float64(rc.Batch), Decay: train.DecayMultiStep,
				Milestones: milestones, Gamma: rc.Gamma, WarmupSteps: rc.WarmupSteps},
			SGD:       train.SGDConfig{Momentum: rc.Momentum, WeightDecay: rc.WeightDecay},
			EvalEvery: -1, LogEvery: max(1, perEpoch/10), Keep: 1, CheckpointInterval: 10 * time.Minute,
			Resume: true, NoPlots: true, Device: e.Device,
			Extra: map[string]any{"arch": n.Arch.Name, "block": sum.Block.String(), "shortcut": sum.Shortcut.String(),
				"experiment": e.Name, "net": n.Key, "image_size": 32, "seed": rc.Seed}}
		t0 := time.Now()
		_, err := train.Run(ctx, cfg, model, data)
		secs := time.Since(t0).Seconds()
		if errors.Is(err, train.ErrNonFinite) {
			res.Status = StatusDiverged
			if m := divergedStep.FindStringSubmatch(err.Error()); m != nil {
				res.DivergedAt, _ = strconv.Atoi(m[1])
			}
			fmt.Fprintf(log, "%s: %s: diverged at step %d: the training loss is not finite\n", e.Name, n.Key, res.DivergedAt)
			res.Loss, _ = readLoss(dir)
			return res, writeResult(dir, res)
		}
		if err != nil {
			return res, fmt.Errorf("%s %s: %w", e.Name, n.Key, err)
		}
		base += secs
		t1 := time.Now()
		pt, err := e.evaluate(ctx, model, trainSrc, testSrc)
		if err != nil {
			return res, fmt.Errorf("%s %s: %w", e.Name, n.Key, err)
		}
		res.EvalSecs += time.Since(t1).Seconds()
		pt.Epoch, pt.Step, pt.Seconds = float64(end)/float64(perEpoch), end, base
		res.Curve = append(res.Curve, pt)
		step = end
		if step >= total {
			res.Status = StatusDone
		}
		if err := writeResult(dir, res); err != nil {
			return res, err
		}
		fmt.Fprintf(log, "%s: %s: epoch %.1f: train error %.1f%% test error %.1f%% (loss %.3f / %.3f), %.0f s\n",
			e.Name, n.Key, pt.Epoch, 100*pt.TrainError, 100*pt.TestError, pt.TrainLoss, pt.TestLoss, base)
	}
	res.Loss, _ = readLoss(dir)
	return res, nil
}

// plan returns the run length and the milestones for perEpoch steps per
// epoch.
func (rc Recipe) plan(perEpoch int) (total int, milestones []int) {
	total = rc.Steps
	if rc.Epochs > 0 {
		total = rc.Epochs * perEpoch
	}
	milestones = rc.Milestones
	if len(rc.MilestoneFractions) > 0 {
		milestones = nil
		for _, f := range rc.MilestoneFractions {
			if m := int(f * float64(total)); m >= 1 && (len(milestones) == 0 || m > milestones[len(milestones)-1]) {
				milestones = append(milestones, m)
			}
		}
	}
	return total, milestones
}

// sources returns the training and test sources, cut to the recipe's
// image counts.
func (e *Runs) sources() (trainSrc, testSrc loader.Source, err error) {
	tr, err := loader.NewSplitSource(e.Data.Train, e.Data.Classes)
	if err != nil {
		return nil, nil, err
	}
	te, err := loader.NewSplitSource(e.Data.Test, e.Data.Classes)
	if err != nil {
		return nil, nil, err
	}
	return firstN(tr, e.Recipe.TrainImages), firstN(te, e.Recipe.TestImages), nil
}

// evaluate measures the error and loss on the first EvalTrain training
// images and on the test images, in evaluation mode without augmentation.
func (e *Runs) evaluate(ctx context.Context, m train.Model, trainSrc, testSrc loader.Source) (EpochPoint, error) {
	var pt EpochPoint
	for _, s := range []struct {
		src   loader.Source
		limit int
		err   *float64
		loss  *float64
	}{{trainSrc, e.Recipe.EvalTrain, &pt.TrainError, &pt.TrainLoss}, {testSrc, 0, &pt.TestError, &pt.TestLoss}} {
		l, err := loader.New(s.src, loader.Config{Batch: min(256, s.src.Len()), ImageSize: 32, NoShuffle: true, Epochs: 1,
			Targets: loader.TargetsNone, Workers: e.Recipe.Workers, Transform: e.Data.transform(false)})
		if err != nil {
			return pt, err
		}
		r, err := train.Evaluate(ctx, m, l, train.EvalOptions{Device: e.Device, Limit: s.limit})
		l.Close()
		if err != nil {
			return pt, err
		}
		*s.err, *s.loss = 1-r.Top1, r.Loss
	}
	return pt, nil
}

// firstN is the first n items of a source (all when n ≤ 0 or n ≥ Len).
func firstN(src loader.Source, n int) loader.Source {
	if n <= 0 || n >= src.Len() {
		return src
	}
	return prefixSource{src, n}
}

type prefixSource struct {
	loader.Source
	n int
}

func (p prefixSource) Len() int { return p.n }

func (p prefixSource) Blocks() []int {
	b := make([]int, p.n)
	for i := range b {
		b[i] = 1
	}
	return b
}

func (p prefixSource) Where(i int) string {
	if w, ok := p.Source.(interface{ Where(int) string }); ok {
		return w.Where(i)
	}
	return fmt.Sprintf("item %d", i)
}

func readResult(dir string) (*NetResult, error) {
	var r NetResult
	if ok, err := runs.Load(dir, &r); err != nil || !ok {
		return nil, err
	}
	return &r, nil
}

func writeResult(dir string, r NetResult) error {
	r.Loss = nil // kept in metrics.jsonl
	return runs.Save(dir, r)
}

// readLoss reads the logged training losses of a run.
func readLoss(dir string) ([]LossPoint, error) {
	rows, err := train.ReadMetrics(filepath.Join(dir, train.MetricsFile))
	if err != nil {
		return nil, err
	}
	var out []LossPoint
	for _, r := range rows {
		if r.Kind == train.RowTrain {
			out = append(out, LossPoint{Step: r.Step, Loss: r.Loss})
		}
	}
	return out, nil
}
