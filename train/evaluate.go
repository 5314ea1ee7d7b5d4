package train

import (
	"context"
	"errors"
	"fmt"
	"io"

	"weaksup/torch"
)

// EvalOptions are the settings of a held-out evaluation.
type EvalOptions struct {
	Loss      string       // LossSoftmax (default) or LossSigmoid: the loss reported
	Device    torch.Device // where the model is
	Limit     int          // at most so many images, from the first batches (0: all)
	Precision Precision    // of the forward pass ("": fp32)
}

// Evaluate runs the model in evaluation mode without gradients over the
// batches of val and returns the held-out metrics (precision@1/@5,
// top-1/5, mAP, mean loss).
func Evaluate(ctx context.Context, model Model, val Batches, o EvalOptions) (EvalResult, error) {
	ev := NewEvaluator(val.NumClasses())
	err := ScoreBatches(ctx, model, val, o, func(scores []float32, labels [][]int32, lossSum float64) error {
		ev.AddLoss(lossSum, len(labels))
		return ev.Add(scores, labels)
	})
	if err != nil {
		return EvalResult{}, err
	}
	return ev.Result(), nil
}

// ScoreBatches runs the model in evaluation mode, the forward pass in
// o.Precision, over at most o.Limit images of val (0: all) and hands each
// batch's scores (n×K, float32), label sets and summed loss to sink.
func ScoreBatches(ctx context.Context, model Model, val Batches, o EvalOptions,
	sink func(scores []float32, labels [][]int32, lossSum float64) error) error {
	loss := o.Loss
	if loss == "" {
		loss = LossSoftmax
	}
	dev, limit := o.Device, o.Limit
	k := val.NumClasses()
	seen := 0
	var targets []float32
	for limit <= 0 || seen < limit {
		b, err := val.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read held-out batch: %w", err)
		}
		if limit > 0 && seen+b.N > limit {
			b.N = limit - seen
		}
		seen += b.N
		if len(targets) < b.N*k {
			targets = make([]float32, b.N*k)
		}
		err = func() error {
			s := torch.NewScope()
			defer s.Close()
			if err := Targets(targets, b.Labels[:b.N], k, loss); err != nil {
				return err
			}
			return torch.NoGrad(func() error {
				x := torch.FromFloat32(b.Images[:b.N*3*b.Size*b.Size], int64(b.N), 3, int64(b.Size), int64(b.Size))
				y := torch.FromFloat32(targets[:b.N*k], int64(b.N), int64(k))
				if dev != torch.CPU {
					x, y = x.To(dev), y.To(dev)
				}
				var logits, l *torch.Tensor
				err := o.Precision.Autocast(dev, func() error {
					var err error
					logits, err = model.Forward(x, false)
					l = LossOf(loss, logits, y)
					return err
				})
				if err != nil {
					return err
				}
				lv, err := l.Item()
				if err != nil {
					return err
				}
				scores, err := logits.ToDType(torch.Float32).Float32s()
				if err != nil {
					return err
				}
				return sink(scores, b.Labels[:b.N], lv*float64(b.N))
			})
		}()
		b.Release()
		if err != nil {
			return err
		}
	}
	return nil
}
