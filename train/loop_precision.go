package train

import (
	"fmt"

	"weaksup/torch"
)

// The training loop's mixed precision: the forward pass and loss under
// autocast, the loss scaled before backward, the optimizer step through the
// scaler, and the scaler's state in checkpoints.

// initPrecision checks cfg.Precision on the device and starts the scaler
// when the precision, or cfg.LossScaling, asks for one.
func (r *run) initPrecision() error {
	if err := r.cfg.Precision.Check(r.cfg.Device); err != nil {
		return fmt.Errorf("check training config: %w", err)
	}
	ls := r.cfg.LossScaling
	if ls == nil && r.cfg.Precision.LossScaled() {
		d := DefaultLossScaling()
		ls = &d
	}
	if ls == nil {
		return nil
	}
	s, err := NewGradScaler(*ls)
	if err != nil {
		return fmt.Errorf("check training config: %w", err)
	}
	r.scaler = s
	return nil
}

// autocast runs one forward pass (and its loss) in the run's precision.
func (r *run) autocast(fn func() error) error { return r.cfg.Precision.Autocast(r.cfg.Device, fn) }

// scaleLoss returns the tensor to call Backward on.
func (r *run) scaleLoss(loss *torch.Tensor) *torch.Tensor {
	if r.scaler == nil {
		return loss
	}
	return r.scaler.ScaleLoss(loss)
}

// optimizerStep steps the optimizer at lr, through the scaler when there
// is one: a step whose gradients overflowed is skipped (the schedule moves
// on, as with PyTorch's GradScaler) and logged.
func (r *run) optimizerStep(lr float64) error {
	if r.scaler == nil {
		return r.opt.Step(lr)
	}
	skipped, err := r.scaler.Step(r.opt.Params(), func() error { return r.opt.Step(lr) })
	if err != nil {
		return err
	}
	if skipped {
		r.logf("%s: step %d skipped: inf or NaN gradients; loss scale now %g\n", r.cfg.Label, r.step+1, r.scaler.Scale())
	}
	return nil
}

// savePrecision records the precision and the scaler's state in st.
func (r *run) savePrecision(st *CheckpointState) {
	st.Precision = r.cfg.Precision.orFP32()
	if r.scaler != nil {
		s := r.scaler.State()
		st.GradScaler = &s
	}
}

// restorePrecision continues the scaler of a checkpoint. A checkpoint of
// another precision is resumed in the configured one (say, fp32 weights
// continued in bf16); that run is no longer the same as an uninterrupted
// one, and the log says so.
func (r *run) restorePrecision(st *CheckpointState, dir string) error {
	saved := st.Precision.orFP32()
	if saved != r.cfg.Precision.orFP32() {
		r.logf("%s: %s was trained in %s; continuing in %s\n", r.cfg.Label, dir, saved, r.cfg.Precision.orFP32())
	}
	if r.scaler != nil && st.GradScaler != nil {
		if err := r.scaler.SetState(*st.GradScaler); err != nil {
			return fmt.Errorf("resume from %s: %w", dir, err)
		}
	}
	return nil
}

// lossScale returns the current loss scale for the metrics (0 without a
// scaler).
func (r *run) lossScale() float64 {
	if r.scaler == nil {
		return 0
	}
	return r.scaler.Scale()
}

// CheckpointPrecision returns the precision the newest checkpoint of a run
// directory was trained in, so that `--precision auto --resume` continues
// in it; ok is false when there is no checkpoint or it does not say.
func CheckpointPrecision(out string) (p Precision, ok bool) {
	dir, err := LatestCheckpoint(CheckpointsDir(out))
	if err != nil {
		return "", false
	}
	st, err := ReadCheckpointState(dir)
	if err != nil || st.Precision == "" {
		return "", false
	}
	return st.Precision, true
}
