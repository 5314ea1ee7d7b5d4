package ddp

import (
	"fmt"
	"time"

	"weaksup/nets"
	"weaksup/torch"
	"weaksup/train"
)

// Options are the settings of Replicas.
type Options struct {
	// BucketMB is the size of the gradient buckets (default 25, DDP's).
	BucketMB float64 `json:"bucket_mb,omitempty"`
	// NoOverlap allreduces the gradient buckets after the backward pass
	// instead of during it (c10d's Reducer); for measuring what overlap
	// saves.
	NoOverlap bool `json:"no_overlap,omitempty"`
}

// DDP's constants: the first bucket is small so the first allreduce starts
// early; parameters and buffers are broadcast in buffers of 250 MB.
const (
	defaultBucketMB  = 25
	firstBucketBytes = 1 << 20
	broadcastBytes   = 250 << 20
)

// Replicas is train.Parallel over a process group, as PyTorch's
// DistributedDataParallel does it: every rank holds the whole model and
// reads its Part of the data; at Attach every rank takes rank 0's
// parameters and buffers; c10d's Reducer averages the gradients in buckets
// while the backward pass runs (Options.NoOverlap: after it, in reverse
// parameter order); batch-norm buffers are broadcast from rank 0 after
// every step (broadcast_buffers). A Replicas is used by one run at a time,
// from one goroutine.
type Replicas struct {
	g   *torch.Group
	opt Options

	// Between Attach and Detach:
	params  []*torch.Tensor // trainable, in the model's order
	all     []*torch.Tensor // the state_dict: parameters and buffers
	buffers []*torch.Tensor // batch-norm running statistics
	reducer *torch.Reducer  // overlapped reduction; nil with NoOverlap
	buckets [][]*torch.Tensor

	// since the last metrics row
	steps  int
	wait   time.Duration // the step's wall time spent in communication the computation did not hide
	hidden time.Duration // reducer communication that overlapped the backward pass
	bytes  int64         // gradient bytes allreduced and buffer bytes broadcast
}

var _ train.Parallel = (*Replicas)(nil)

// New returns the train.Parallel of group g: Replicas over it, or
// train.Alone when g is nil (one process).
func New(g *torch.Group, o Options) train.Parallel {
	if g == nil {
		return train.Alone{}
	}
	return &Replicas{g: g, opt: o}
}

func (d *Replicas) Part() train.Part { return train.Part{Rank: d.g.Rank(), World: d.g.World()} }

func (d *Replicas) String() string {
	mode := "during backward"
	if d.opt.NoOverlap {
		mode = "after backward"
	}
	return fmt.Sprintf("gradients averaged %s over %s", mode, d.g.Backend())
}

// Reduce combines vs over the ranks in one allreduce of float64s. The time
// it takes counts as communication the step waited for.
func (d *Replicas) Reduce(op torch.DistOp, vs ...float64) ([]float64, error) {
	s := torch.NewScope()
	defer s.Close()
	t := float64s(vs...)
	t0 := time.Now()
	if err := d.g.AllReduce([]*torch.Tensor{t}, op); err != nil {
		return nil, err
	}
	d.wait += time.Since(t0)
	return readFloat64s(t)
}

// Attach makes every rank start from rank 0's parameters and buffers, as
// DDP does at construction (the loop calls it after restoring a
// checkpoint), and prepares the gradient buckets of trainable.
func (d *Replicas) Attach(model train.Model, trainable []nets.Param) error {
	d.Detach()
	for _, p := range trainable {
		d.params = append(d.params, p.Tensor)
	}
	for _, p := range model.Parameters() {
		d.all = append(d.all, p.Tensor)
		if p.Buffer {
			d.buffers = append(d.buffers, p.Tensor)
		}
	}
	if err := torch.NoGrad(func() error { return d.g.Broadcast(d.all, 0, broadcastBytes) }); err != nil {
		return fmt.Errorf("broadcast the model from rank 0: %w", err)
	}
	bucket := int64(d.opt.BucketMB * (1 << 20))
	if d.opt.BucketMB <= 0 {
		bucket = defaultBucketMB << 20
	}
	if d.opt.NoOverlap {
		d.buckets = bucketize(d.params, bucket)
		return nil
	}
	r, err := torch.NewReducer(d.g, d.params, bucket, firstBucketBytes)
	if err != nil {
		return err
	}
	d.reducer = r
	return nil
}

// Detach frees the reducer and forgets the model.
func (d *Replicas) Detach() {
	d.reducer.Close()
	d.reducer = nil
	d.params, d.all, d.buffers, d.buckets = nil, nil, nil, nil
	d.steps, d.wait, d.hidden, d.bytes = 0, 0, 0, 0
}

// bucketize groups params in reverse order (the order backward produces
// their gradients) into buckets of at most limit bytes, one dtype and
// device each; a parameter larger than limit gets a bucket of its own.
func bucketize(params []*torch.Tensor, limit int64) [][]*torch.Tensor {
	var out [][]*torch.Tensor
	var cur []*torch.Tensor
	var size int64
	var key string
	for i := len(params) - 1; i >= 0; i-- {
		p := params[i]
		dt, _ := p.DType()
		dev, _ := p.Device()
		k := fmt.Sprint(dt, dev)
		n := p.Numel() * int64(dt.Size())
		if len(cur) > 0 && (size+n > limit || k != key) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, p)
		size += n
		key = k
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// BeforeMicroBatch prepares the reducer before the last micro-batch, whose
// backward pass reduces the gradients (DDP's no_sync on the others).
func (d *Replicas) BeforeMicroBatch(last bool) error {
	if !last || d.reducer == nil {
		return nil
	}
	return d.reducer.Prepare()
}

// BackwardError names lost ranks in the error of a backward pass whose
// gradients were being allreduced.
func (d *Replicas) BackwardError(err error) error {
	if d.reducer == nil {
		return err
	}
	return d.g.Diagnose("allreduce gradients", err)
}

// AfterBackward allreduces the gradient buckets (NoOverlap) or reads the
// reducer's statistics, then brings every rank's batch-norm buffers to
// rank 0's values (DDP's broadcast_buffers).
func (d *Replicas) AfterBackward() error {
	d.steps++
	if d.reducer != nil {
		st, err := d.reducer.Stats()
		if err != nil {
			return err
		}
		d.wait += st.Exposed
		d.hidden += max(0, st.Comm-st.Exposed)
		d.bytes += st.Bytes
	} else {
		t0 := time.Now()
		for _, b := range d.buckets {
			if err := d.allreduceGrads(b); err != nil {
				return err
			}
		}
		d.wait += time.Since(t0)
	}
	if len(d.buffers) == 0 {
		return nil
	}
	t0 := time.Now()
	err := torch.NoGrad(func() error { return d.g.Broadcast(d.buffers, 0, broadcastBytes) })
	if err != nil {
		return fmt.Errorf("broadcast batch-norm buffers: %w", err)
	}
	d.wait += time.Since(t0)
	for _, b := range d.buffers {
		dt, _ := b.DType()
		d.bytes += b.Numel() * int64(dt.Size())
	}
	return nil
}

// allreduceGrads averages the gradients of one bucket in place.
func (d *Replicas) allreduceGrads(bucket []*torch.Tensor) error {
	s := torch.NewScope()
	defer s.Close()
	grads := make([]*torch.Tensor, len(bucket))
	for i, p := range bucket {
		grads[i] = p.Grad()
		if grads[i] == nil {
			return fmt.Errorf("allreduce gradients: parameter %d of a bucket has no gradient", i)
		}
		dt, _ := grads[i].DType()
		d.bytes += grads[i].Numel() * int64(dt.Size())
	}
	return d.g.AllReduce(grads, torch.DistAvg)
}

// Decorate adds the data-parallel figures since the last row to a training
// row and starts counting anew.
func (d *Replicas) Decorate(row *train.MetricsRow) {
	row.World = d.g.World()
	if d.steps > 0 {
		n := float64(d.steps)
		row.CommS = d.wait.Seconds() / n
		row.CommHiddenS = d.hidden.Seconds() / n
		row.CommBytes = d.bytes / int64(d.steps)
	}
	d.steps, d.wait, d.hidden, d.bytes = 0, 0, 0, 0
}
