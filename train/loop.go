package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"time"

	"weaksup/loader"
	"weaksup/nets"
	"weaksup/progress"
	"weaksup/torch"
)

// run is the state of one training run.
type run struct {
	cfg      Config
	model    Model
	opt      *Optimizer
	par      Parallel // Alone in one process
	part     Part     // par.Part()
	data     Data
	train    Batches
	sched    Schedule
	metrics  *MetricsLog
	bar      *progress.Bar
	files    *runFiles
	ckRoot   string
	perEpoch int // optimizer steps per epoch
	total    int
	targets  []float32
	scaler   *GradScaler // nil unless the loss is scaled

	step         int
	rowsThrough  int             // metrics rows of steps after it are dropped (the resumed checkpoint's step)
	pos          loader.Position // loader position after step steps
	epoch        int             // epoch of the last batch read
	images       int64
	lastCkpt     string
	lastCkTime   time.Time
	lastEval     *EvalResult
	lastEvalStep int // -1 before any evaluation

	// since the last training row
	lossSum   float64
	lossN     int
	imgs      int
	busy      time.Duration // wall time of the steps, data waits included
	lastLoss  float64
	totalBusy time.Duration
	totalImgs int64
}

// Run trains model, reading top to bottom, once per optimizer step: set
// the learning rate → evaluate and checkpoint when due → forward and
// backward over Accumulate batches → optimizer step → log. Each batch runs
// in its own torch.Scope, so intermediates are freed every step.
//
// With cfg.Resume it first restores the newest checkpoint in
// CheckpointsDir(cfg.Out) (weights, momentum, RNG, step, loader position),
// so an interrupted run continues exactly as an uninterrupted one. The
// metrics rows past the checkpoint are dropped and written again.
//
// A NaN or infinite loss stops the run with an error wrapping ErrNonFinite
// that names the last good checkpoint; no checkpoint is written after it.
// A cancelled ctx saves a checkpoint and returns ctx.Err().
func Run(ctx context.Context, cfg Config, model Model, data Data) (*Result, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	if data.Train == nil {
		return nil, fmt.Errorf("run training: no training data")
	}
	par := cfg.Parallel
	if par == nil {
		par = Alone{}
	}
	part := par.Part()
	if part.Rank != 0 {
		// Rank 0 writes the run's files and progress.
		cfg.NoPlots = true
		if !cfg.AllRanksLog {
			cfg.Log = nil
		}
	}
	files, err := openRunFiles(ctx, cfg, part.Rank == 0)
	if err != nil {
		return nil, err
	}
	defer files.close()
	r := &run{cfg: cfg, model: model, data: data, par: par, part: part, files: files, ckRoot: CheckpointsDir(cfg.Out), lastEvalStep: -1}
	params := trainable(model, cfg.FreezeBackbone)
	opt, err := NewOptimizer(params, cfg.SGD, model.Head()...)
	if err != nil {
		return nil, err
	}
	r.opt = opt
	defer opt.Close()
	if err := r.initPrecision(); err != nil {
		return nil, err
	}
	// The model enters and leaves without gradients (an error mid-step
	// leaves none behind for a later run on the same model).
	if err := opt.ZeroGrad(); err != nil {
		return nil, err
	}
	defer opt.ZeroGrad()

	resume, err := r.restore()
	if err != nil {
		return nil, err
	}
	if err := par.Attach(model, params); err != nil {
		return nil, err
	}
	defer par.Detach()
	r.train, err = data.Train(part, resume)
	if err != nil {
		return nil, fmt.Errorf("open training data: %w", err)
	}
	defer r.train.Close()
	if err := r.plan(); err != nil {
		return nil, err
	}
	r.announceParts()
	if part.Rank == 0 {
		if err := files.pull(ctx, MetricsFile); err != nil {
			return nil, err
		}
		r.metrics, err = OpenMetricsLog(filepath.Join(files.local, MetricsFile), r.rowsThrough)
		if err != nil {
			return nil, err
		}
		defer r.metrics.Close()
	}

	r.bar = progress.New(cfg.Log, int64(r.total-r.step), cfg.Label)
	defer r.bar.Finish()
	r.lastCkTime = time.Now()
	start := r.step
	// Collective work runs to its end once the ranks agreed to start it:
	// a cancellation waits for the next vote, so that no rank leaves the
	// others in a collective.
	work := ctx
	if part.World > 1 {
		work = context.WithoutCancel(ctx)
	}
	if cfg.EvalAtStart && start == 0 && data.Val != nil {
		if err := r.evaluate(work); err != nil {
			return nil, err
		}
	}
	for r.step < r.total {
		lr := r.sched.LR(r.step)
		r.pos = r.train.Position()
		if stop, err := r.stop(ctx.Err() != nil); err != nil || stop {
			if err != nil {
				return nil, err
			}
			return nil, r.interrupted(stopCause(ctx), start)
		}
		if r.step > start {
			if err := r.maybeEvalAndCheckpoint(work); err != nil {
				if ctx.Err() != nil {
					return nil, r.interrupted(ctx.Err(), start)
				}
				return nil, err
			}
		}
		t0 := time.Now()
		done, err := r.forwardBackward(work)
		if err != nil {
			if ctx.Err() != nil {
				// Cancelled before the step's first batch: nothing of
				// the step has happened yet.
				return nil, r.interrupted(ctx.Err(), start)
			}
			return nil, err
		}
		if done {
			break // the data ended before the planned steps
		}
		if err := r.par.AfterBackward(); err != nil {
			return nil, fmt.Errorf("step %d: %w", r.step+1, err)
		}
		if err := r.optimizerStep(lr); err != nil {
			return nil, fmt.Errorf("step %d: %w", r.step+1, err)
		}
		if err := r.opt.ZeroGrad(); err != nil {
			return nil, err
		}
		r.busy += time.Since(t0)
		r.step++
		r.bar.Add(1)
		if err := r.log(lr); err != nil {
			return nil, err
		}
	}
	return r.finish(work)
}

// interrupted saves a checkpoint of the steps done since start (when there
// are any and the newest checkpoint is not of this step already) and
// returns err, the context's error.
func (r *run) interrupted(err error, start int) error {
	if r.step == start || r.lastCkpt == joinLoc(r.ckRoot, CheckpointName(r.step)) {
		return err
	}
	dir, serr := r.checkpoint()
	if serr != nil {
		return errors.Join(err, serr)
	}
	r.logf("%s: interrupted at step %d; saved %s\n", r.cfg.Label, r.step, dir)
	return err
}

// trainable returns the parameters the optimizer updates: all of them, or
// only the head's.
func trainable(m Model, headOnly bool) []nets.Param {
	var out []nets.Param
	head := map[*torch.Tensor]bool{}
	for _, t := range m.Head() {
		head[t] = true
	}
	for _, p := range m.Parameters() {
		if p.Buffer || (headOnly && !head[p.Tensor]) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// restore loads the newest checkpoint when resuming and returns the loader
// position to continue from (nil for a fresh start).
func (r *run) restore() (*loader.Position, error) {
	if !r.cfg.Resume {
		if cks, err := r.listCheckpoints(); err != nil || len(cks) > 0 {
			if err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("start run in %s: %w (newest %s); resume it or choose another output directory",
				r.cfg.Out, ErrRunExists, filepath.Base(cks[len(cks)-1]))
		}
		return nil, nil
	}
	dir, err := r.latestCheckpoint()
	if err := r.agreeOnCheckpoint(checkpointStep(dir)); err != nil {
		return nil, err
	}
	if errors.Is(err, ErrNoCheckpoint) {
		r.logf("%s: no checkpoint in %s; starting from step 0\n", r.cfg.Label, r.ckRoot)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st, err := r.loadCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	if err := r.restorePrecision(&st, dir); err != nil {
		return nil, err
	}
	if len(st.RNG) > 0 {
		if err := torch.SetRNGState(torch.CPU, st.RNG); err != nil {
			return nil, fmt.Errorf("restore RNG from %s: %w", dir, err)
		}
	}
	if len(st.CUDARNG) > 0 && r.cfg.Device.Type == torch.DeviceCUDA {
		if err := torch.SetRNGState(r.cfg.Device, st.CUDARNG); err != nil {
			return nil, fmt.Errorf("restore CUDA RNG from %s: %w", dir, err)
		}
	}
	r.step, r.epoch, r.images, r.lastCkpt, r.lastLoss = st.Step, st.Epoch, st.Images, dir, st.Loss
	r.rowsThrough = st.Step
	r.logf("%s: resuming from %s (step %d)\n", r.cfg.Label, dir, st.Step)
	return r.rescale(st), nil
}

// plan fixes the run length and the schedule once the data is open.
func (r *run) plan() error {
	batches := r.train.StepsPerEpoch()
	if batches < 1 {
		return fmt.Errorf("plan training: the training data has no batches")
	}
	if h := r.model.Head(); len(h) > 0 {
		if shape := h[0].Shape(); len(shape) != 2 || int(shape[0]) != r.train.NumClasses() {
			return fmt.Errorf("plan training: the model's head has shape %v, the data has %d classes", shape, r.train.NumClasses())
		}
	}
	r.perEpoch = max(1, batches/r.cfg.Accumulate)
	r.total = r.cfg.Steps
	if r.total == 0 {
		r.total = r.cfg.Epochs * r.perEpoch
	}
	s := r.cfg.Schedule
	s.Batch = r.cfg.Batch * r.cfg.Accumulate * r.part.World
	s.TotalSteps = r.total
	if r.cfg.WarmupEpochs > 0 {
		s.WarmupSteps = min(int(math.Round(r.cfg.WarmupEpochs*float64(r.perEpoch))), r.total/5)
	}
	if r.cfg.StepEpochs > 0 {
		s.StepEvery = max(1, int(math.Round(r.cfg.StepEpochs*float64(r.perEpoch))))
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("plan training: %w", err)
	}
	r.sched = s
	r.targets = make([]float32, r.cfg.Batch*r.train.NumClasses())
	return nil
}

func (r *run) epochAt(step int) float64 { return float64(step) / float64(r.perEpoch) }

// evalDue reports whether the held-out set is evaluated after step steps.
func (r *run) evalDue(step int) bool {
	if r.data.Val == nil {
		return false
	}
	switch e := r.cfg.EvalEvery; {
	case e < 0:
		return false
	case e == 0:
		return step%r.perEpoch == 0
	default:
		return step%e == 0
	}
}

// maybeEvalAndCheckpoint runs at the top of a step (after r.step steps).
func (r *run) maybeEvalAndCheckpoint(ctx context.Context) error {
	eval := r.evalDue(r.step)
	if eval {
		if err := r.evaluate(ctx); err != nil {
			return err
		}
	}
	due := eval ||
		(r.cfg.CheckpointEvery > 0 && r.step%r.cfg.CheckpointEvery == 0) ||
		(r.cfg.CheckpointInterval > 0 && time.Since(r.lastCkTime) >= r.cfg.CheckpointInterval)
	if due {
		_, err := r.checkpoint()
		return err
	}
	return nil
}

// forwardBackward reads Accumulate batches and adds their gradients. It
// reports done when the training data has ended. Once the first batch has
// gone forward (updating batch-norm statistics) the step is finished even
// if ctx is cancelled, so an interruption always falls between steps.
func (r *run) forwardBackward(ctx context.Context) (done bool, err error) {
	for a := 0; a < r.cfg.Accumulate; a++ {
		if a == 1 {
			ctx = context.WithoutCancel(ctx)
		}
		b, err := r.train.Next(ctx)
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("step %d: read training batch: %w", r.step+1, err)
		}
		if err := r.par.BeforeMicroBatch(a == r.cfg.Accumulate-1); err != nil {
			b.Release()
			return false, fmt.Errorf("step %d: %w", r.step+1, err)
		}
		loss, err := r.microStep(b)
		r.epoch = b.Epoch
		r.images += int64(b.N * r.part.World)
		r.imgs += b.N
		b.Release()
		if err != nil {
			return false, err
		}
		r.lossSum += loss
		r.lossN++
	}
	return false, nil
}

// microStep runs forward and backward on one batch in its own scope and
// returns its loss.
func (r *run) microStep(b *loader.Batch) (float64, error) {
	s := torch.NewScope()
	defer s.Close()
	k := r.train.NumClasses()
	if len(r.targets) < b.N*k {
		r.targets = make([]float32, b.N*k)
	}
	if err := Targets(r.targets, b.Labels[:b.N], k, r.cfg.Loss); err != nil {
		return 0, fmt.Errorf("step %d: %w", r.step+1, err)
	}
	x := torch.FromFloat32(b.Images[:b.N*3*b.Size*b.Size], int64(b.N), 3, int64(b.Size), int64(b.Size))
	y := torch.FromFloat32(r.targets[:b.N*k], int64(b.N), int64(k))
	if r.cfg.Device != torch.CPU {
		x, y = x.To(r.cfg.Device), y.To(r.cfg.Device)
	}
	var loss *torch.Tensor
	err := r.autocast(func() error {
		logits, err := r.logits(x)
		loss = LossOf(r.cfg.Loss, logits, y)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("step %d: %w", r.step+1, err)
	}
	v, err := loss.Item()
	if err != nil {
		return 0, fmt.Errorf("step %d: loss: %w", r.step+1, err)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		last := r.lastCkpt
		if last == "" {
			last = "none yet"
		}
		return 0, fmt.Errorf("step %d (lr %.4g): %w (%v); stopped without saving; last good checkpoint: %s; lower --lr or lengthen the warm-up, then resume",
			r.step+1, r.sched.LR(r.step), ErrNonFinite, v, last)
	}
	if r.cfg.Accumulate > 1 {
		loss = loss.MulScalar(1 / float64(r.cfg.Accumulate))
	}
	if err := r.scaleLoss(loss).Backward(); err != nil {
		return 0, fmt.Errorf("step %d: backward: %w", r.step+1, r.par.BackwardError(err))
	}
	return v, nil
}

// logits runs the model in training mode, or, with a frozen backbone, the
// backbone without gradients in evaluation mode and the head on top.
func (r *run) logits(x *torch.Tensor) (*torch.Tensor, error) {
	if !r.cfg.FreezeBackbone {
		return r.model.Forward(x, true)
	}
	var f *torch.Tensor
	err := torch.NoGrad(func() error {
		var err error
		f, err = r.model.Features(x, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	h := r.model.Head()
	y := torch.Linear(f, h[0], h[1])
	return y, y.Err()
}

// log shows the mean loss, learning rate and throughput since the last
// training row on the progress bar, and writes a training row every
// LogEvery steps, after the first and after the last.
func (r *run) log(lr float64) error {
	mean, err := r.par.Reduce(torch.DistAvg, r.lossSum/float64(max(1, r.lossN)))
	if err != nil {
		return fmt.Errorf("step %d: average the ranks' losses: %w", r.step, err)
	}
	loss := mean[0]
	ips := 0.0
	if s := r.busy.Seconds(); s > 0 {
		ips = float64(r.imgs*r.part.World) / s
	}
	r.bar.SetStatus(fmt.Sprintf("loss %.4f lr %.4g %.0f img/s", loss, lr, ips))
	if r.step%r.cfg.LogEvery != 0 && r.step != r.total && r.step != 1 {
		return nil
	}
	r.totalBusy += r.busy
	r.totalImgs += int64(r.imgs * r.part.World)
	r.lastLoss = loss
	r.lossSum, r.lossN, r.imgs, r.busy = 0, 0, 0, 0
	row := MetricsRow{Kind: RowTrain, Step: r.step, Epoch: r.epochAt(r.step), Loss: loss, LR: lr, ImagesPerS: ips, LossScale: r.lossScale(),
		Time: time.Now().UTC(), Batch: r.cfg.Batch, GlobalBatch: r.sched.Batch}
	r.par.Decorate(&row)
	return r.metrics.Write(row)
}

// evaluate runs the held-out set, writes an eval row and redraws the plots.
func (r *run) evaluate(ctx context.Context) error {
	val, err := r.data.Val(r.part)
	if err != nil {
		return fmt.Errorf("open held-out data: %w", err)
	}
	defer val.Close()
	res, err := r.par.Evaluate(ctx, r.model, val, EvalOptions{Loss: r.cfg.Loss, Device: r.cfg.Device, Limit: r.cfg.EvalImages, Precision: r.cfg.Precision})
	if err != nil {
		return fmt.Errorf("evaluate after step %d: %w", r.step, err)
	}
	r.lastEval, r.lastEvalStep = &res, r.step
	r.logf("%s: step %d epoch %.2f: %s\n", r.cfg.Label, r.step, r.epochAt(r.step), res.Summary())
	if err := r.metrics.Write(MetricsRow{Kind: RowEval, Step: r.step, Epoch: r.epochAt(r.step), Time: time.Now().UTC(), EvalResult: &res}); err != nil {
		return err
	}
	return r.plots()
}

func (r *run) plots() error {
	if !r.cfg.NoPlots {
		rows, err := ReadMetrics(filepath.Join(r.files.local, MetricsFile))
		if err != nil {
			return err
		}
		if err := PlotMetrics(rows, filepath.Join(r.files.local, "plots")); err != nil {
			return err
		}
	}
	return r.files.push(context.Background(), append([]string{MetricsFile}, runPlots...)...)
}

// checkpoint saves the state after r.step steps (rank 0 of a data-parallel
// run; the others only note its name).
func (r *run) checkpoint() (string, error) {
	if r.part.Rank != 0 {
		r.lastCkpt, r.lastCkTime = joinLoc(r.ckRoot, CheckpointName(r.step)), time.Now()
		return r.lastCkpt, nil
	}
	st := CheckpointState{Step: r.step, Epoch: r.epoch, Images: r.images, Loss: r.lastLoss, World: r.part.World, GlobalBatch: r.sched.Batch}
	r.savePrecision(&st)
	pos := r.pos
	st.Loader = &pos
	var err error
	if st.RNG, err = torch.RNGState(torch.CPU); err != nil {
		return "", fmt.Errorf("save checkpoint: RNG state: %w", err)
	}
	if r.cfg.Device.Type == torch.DeviceCUDA {
		if st.CUDARNG, err = torch.RNGState(r.cfg.Device); err != nil {
			return "", fmt.Errorf("save checkpoint: CUDA RNG state: %w", err)
		}
	}
	type savedConfig struct {
		Config
		Device string `json:"device"`
	}
	dir, err := r.saveCheckpoint(st, savedConfig{r.cfg, r.cfg.Device.String()})
	if err != nil {
		return "", err
	}
	r.lastCkpt, r.lastCkTime = dir, time.Now()
	return dir, nil
}

// finish evaluates and checkpoints the final state and draws the plots.
func (r *run) finish(ctx context.Context) (*Result, error) {
	r.pos = r.train.Position()
	if r.data.Val != nil && r.lastEvalStep != r.step {
		if err := r.evaluate(ctx); err != nil {
			return nil, err
		}
	}
	dir, err := r.checkpoint()
	if err != nil {
		return nil, err
	}
	if err := r.plots(); err != nil {
		return nil, err
	}
	res := &Result{Steps: r.step, Loss: r.lastLoss, Eval: r.lastEval, Checkpoint: dir, Precision: r.cfg.Precision.orFP32(), Rank: r.part.Rank}
	if s := r.totalBusy.Seconds(); s > 0 {
		res.ImagesPerS = float64(r.totalImgs) / s
	}
	return res, nil
}

func (r *run) logf(format string, args ...any) {
	if r.cfg.Log == nil {
		return
	}
	if r.bar != nil && progress.IsTerminal(r.cfg.Log) {
		// Clear the bar's line; the bar redraws below the message.
		fmt.Fprint(r.cfg.Log, "\r\x1b[K")
	}
	fmt.Fprintf(r.cfg.Log, format, args...)
}

// stop returns whether any rank wants to stop (its context was cancelled),
// so that all ranks stop after the same step.
func (r *run) stop(local bool) (bool, error) {
	v := 0.0
	if local {
		v = 1
	}
	got, err := r.par.Reduce(torch.DistMax, v)
	if err != nil {
		return false, fmt.Errorf("agree whether to stop: %w", err)
	}
	return got[0] > 0, nil
}

// agreeOnCheckpoint checks that every rank found the same newest
// checkpoint step (-1 for none): checkpoints must be on a filesystem every
// rank reads.
func (r *run) agreeOnCheckpoint(step int) error {
	a, b, err := Agree(r.par, float64(step))
	if err != nil {
		return fmt.Errorf("agree on the checkpoint to resume: %w", err)
	}
	if a != b {
		return fmt.Errorf("resume in %s: the ranks see different newest checkpoints (steps %v to %v; -1 is none): "+
			"the run directory must be on a filesystem (or in an object store) every rank reads", r.ckRoot, a, b)
	}
	return nil
}
