package train

import (
	"context"

	"weaksup/nets"
	"weaksup/torch"
)

// Part names the share of the data one process reads: rank Rank of World
// data-parallel processes (Rank 0 of 1 for a single process). Loaders give
// rank r the global positions r, r+World, r+2·World, … of the sequence.
type Part struct {
	Rank  int `json:"rank"`
	World int `json:"world"`
}

// Parallel is how a run shares its work with the other processes of a
// data-parallel job: package ddp's Replicas, as PyTorch's
// DistributedDataParallel does it over a process group, or Alone, the run
// of one process, where every method does nothing. Run calls them in this
// order: Reduce at any time; Attach once the weights are restored;
// BeforeMicroBatch before each micro-batch's forward pass and AfterBackward
// after the last one's backward pass (BackwardError explains a failed
// backward pass); Evaluate and Decorate when due; Detach at the end.
type Parallel interface {
	// Part is this process's share of the data.
	Part() Part
	// Reduce combines each of vs over the ranks with op, in one
	// collective every rank calls with as many values.
	Reduce(op torch.DistOp, vs ...float64) ([]float64, error)
	// Attach prepares to train model, whose trainable parameters are
	// trainable: every rank takes rank 0's parameters and buffers, and
	// their gradients are averaged from now on.
	Attach(model Model, trainable []nets.Param) error
	// BeforeMicroBatch runs before each micro-batch's forward pass; last
	// is the step's last micro-batch, whose backward pass communicates.
	BeforeMicroBatch(last bool) error
	// AfterBackward runs after the last micro-batch's backward pass: the
	// gradients are averaged when it returns.
	AfterBackward() error
	// BackwardError names what the ranks' communication knows about a
	// failed backward pass (a lost rank).
	BackwardError(err error) error
	// Evaluate runs the held-out evaluation of model over val, each rank
	// its Part; every rank gets the result of one process.
	Evaluate(ctx context.Context, model Model, val Batches, o EvalOptions) (EvalResult, error)
	// Decorate adds the communication figures since the last training row
	// to row.
	Decorate(row *MetricsRow)
	// Detach frees what Attach made.
	Detach()
	// String says how the work is shared, for the log ("" alone).
	String() string
}

// Alone is the Parallel of a run in one process: it shares nothing.
type Alone struct{}

var _ Parallel = Alone{}

func (Alone) Part() Part                                              { return Part{Rank: 0, World: 1} }
func (Alone) Reduce(_ torch.DistOp, vs ...float64) ([]float64, error) { return vs, nil }
func (Alone) Attach(Model, []nets.Param) error                        { return nil }
func (Alone) BeforeMicroBatch(bool) error                             { return nil }
func (Alone) AfterBackward() error                                    { return nil }
func (Alone) BackwardError(err error) error                           { return err }
func (Alone) Decorate(*MetricsRow)                                    {}
func (Alone) Detach()                                                 {}
func (Alone) String() string                                          { return "" }

func (Alone) Evaluate(ctx context.Context, model Model, val Batches, o EvalOptions) (EvalResult, error) {
	return Evaluate(ctx, model, val, o)
}

// Agree returns the smallest and the largest of v over the ranks: equal
// when every rank holds the same value.
func Agree(p Parallel, v float64) (lo, hi float64, err error) {
	got, err := p.Reduce(torch.DistMax, v, -v)
	if err != nil {
		return 0, 0, err
	}
	return -got[1], got[0], nil
}
