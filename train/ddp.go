package train

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"weaksup/loader"
	"weaksup/torch"
)

// Part names the share of the data one process reads: rank Rank of World
// data-parallel processes (Rank 0 of 1 for a single process). Loaders give
// rank r the global positions r, r+World, r+2·World, … of the sequence.
type Part struct {
	Rank  int `json:"rank"`
	World int `json:"world"`
}

// single is the part of a run in one process.
var single = Part{Rank: 0, World: 1}

// DistConfig makes Run data-parallel, as PyTorch's DistributedDataParallel
// does it: every rank holds the whole model, reads its Part of the data,
// and the gradients are averaged across the ranks before each optimizer
// step, so the ranks stay identical.
type DistConfig struct {
	// Group is the process group (torch.Join); nil trains in one process.
	Group *torch.Group `json:"-"`
	// BucketMB is the size of the gradient buckets (default 25, DDP's).
	BucketMB float64 `json:"bucket_mb,omitempty"`
	// NoOverlap allreduces the gradient buckets after the backward pass
	// instead of during it (c10d's Reducer); for measuring what overlap
	// saves.
	NoOverlap bool `json:"no_overlap,omitempty"`
	// AllRanksLog lets ranks other than 0 write to Config.Log.
	AllRanksLog bool `json:"-"`
}

// DDP's constants: the first bucket is small so the first allreduce starts
// early; parameters and buffers are broadcast in buffers of 250 MB.
const (
	defaultBucketMB  = 25
	firstBucketBytes = 1 << 20
	broadcastBytes   = 250 << 20
)

// dataParallel is the per-run state of a data-parallel run. Its methods
// are no-ops on a nil receiver, so the loop calls them unconditionally.
type dataParallel struct {
	g       *torch.Group
	params  []*torch.Tensor // trainable, in the model's order
	all     []*torch.Tensor // the state_dict: parameters and buffers
	buffers []*torch.Tensor // batch-norm running statistics
	reducer *torch.Reducer  // overlapped reduction; nil with NoOverlap
	buckets [][]*torch.Tensor
	vote    *torch.Tensor // one float: 1 when a rank wants to stop

	// since the last metrics row
	steps  int
	wait   time.Duration // the step's wall time spent in communication the computation did not hide
	hidden time.Duration // reducer communication that overlapped the backward pass
	bytes  int64         // gradient bytes allreduced and buffer bytes broadcast
}

// newDataParallel prepares the data-parallel state for params (the
// trainable parameters, which get a Reducer) and the model's buffers.
func newDataParallel(cfg DistConfig, model Model, params []Param) (*dataParallel, error) {
	g := cfg.Group
	if g == nil {
		return nil, nil
	}
	dp := &dataParallel{g: g}
	for _, p := range params {
		dp.params = append(dp.params, p.Tensor)
	}
	for _, p := range model.Parameters() {
		dp.all = append(dp.all, p.Tensor)
		if p.Buffer {
			dp.buffers = append(dp.buffers, p.Tensor)
		}
	}
	bucket := int64(cfg.BucketMB * (1 << 20))
	if cfg.BucketMB <= 0 {
		bucket = defaultBucketMB << 20
	}
	if cfg.NoOverlap {
		dp.buckets = bucketize(dp.params, bucket)
	} else {
		r, err := torch.NewReducer(g, dp.params, bucket, firstBucketBytes)
		if err != nil {
			return nil, err
		}
		dp.reducer = r
	}
	dp.vote = torch.Zeros(torch.Float32, torch.CPU, 1)
	if err := dp.vote.Err(); err != nil {
		dp.close()
		return nil, err
	}
	return dp, nil
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

// sync makes every rank start from rank 0's parameters and buffers, as DDP
// does at construction; the loop calls it after restoring a checkpoint.
func (dp *dataParallel) sync() error {
	if dp == nil {
		return nil
	}
	if err := torch.NoGrad(func() error { return dp.g.Broadcast(dp.all, 0, broadcastBytes) }); err != nil {
		return fmt.Errorf("broadcast the model from rank 0: %w", err)
	}
	return nil
}

func (dp *dataParallel) part() Part {
	if dp == nil {
		return single
	}
	return Part{Rank: dp.g.Rank(), World: dp.g.World()}
}

func (dp *dataParallel) world() int { return dp.part().World }

// leader reports whether this process writes the run's files: rank 0, or
// the only process.
func (dp *dataParallel) leader() bool { return dp.part().Rank == 0 }

// stop returns whether any rank wants to stop (its context was cancelled),
// so that all ranks stop after the same step.
func (dp *dataParallel) stop(local bool) (bool, error) {
	if dp == nil {
		return local, nil
	}
	v := 0.0
	if local {
		v = 1
	}
	if err := dp.vote.Fill(v); err != nil {
		return false, err
	}
	t0 := time.Now()
	if err := dp.g.AllReduce([]*torch.Tensor{dp.vote}, torch.DistMax); err != nil {
		return false, err
	}
	dp.wait += time.Since(t0)
	got, err := dp.vote.Item()
	return got > 0, err
}

// uncancelled returns the context of work every rank does together
// (a step, an evaluation): once the ranks voted to run it, a cancellation
// waits for the next vote, so that no rank leaves the others in a
// collective.
func (dp *dataParallel) uncancelled(ctx context.Context) context.Context {
	if dp == nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// beforeMicroBatch runs before the forward pass of each micro-batch; the
// last one's backward pass reduces the gradients (DDP's no_sync on the
// others).
func (dp *dataParallel) beforeMicroBatch(last bool) error {
	if dp == nil || !last || dp.reducer == nil {
		return nil
	}
	return dp.reducer.Prepare()
}

// backwardError names lost ranks in the error of a backward pass whose
// gradients were being allreduced.
func (dp *dataParallel) backwardError(err error) error {
	if dp == nil || dp.reducer == nil {
		return err
	}
	return dp.g.Diagnose("allreduce gradients", err)
}

// afterBackward runs after the last micro-batch's backward pass, before
// the optimizer step: it allreduces the gradient buckets (NoOverlap) or
// reads the reducer's statistics, then brings every rank's batch-norm
// buffers to rank 0's values (DDP's broadcast_buffers).
func (dp *dataParallel) afterBackward() error {
	if dp == nil {
		return nil
	}
	dp.steps++
	if dp.reducer != nil {
		st, err := dp.reducer.Stats()
		if err != nil {
			return err
		}
		dp.wait += st.Exposed
		dp.hidden += max(0, st.Comm-st.Exposed)
		dp.bytes += st.Bytes
	} else {
		t0 := time.Now()
		for _, b := range dp.buckets {
			if err := dp.allreduceGrads(b); err != nil {
				return err
			}
		}
		dp.wait += time.Since(t0)
	}
	if len(dp.buffers) == 0 {
		return nil
	}
	t0 := time.Now()
	err := torch.NoGrad(func() error { return dp.g.Broadcast(dp.buffers, 0, broadcastBytes) })
	if err != nil {
		return fmt.Errorf("broadcast batch-norm buffers: %w", err)
	}
	dp.wait += time.Since(t0)
	for _, b := range dp.buffers {
		dt, _ := b.DType()
		dp.bytes += b.Numel() * int64(dt.Size())
	}
	return nil
}

// allreduceGrads averages the gradients of one bucket in place.
func (dp *dataParallel) allreduceGrads(bucket []*torch.Tensor) error {
	s := torch.NewScope()
	defer s.Close()
	grads := make([]*torch.Tensor, len(bucket))
	for i, p := range bucket {
		grads[i] = p.Grad()
		if grads[i] == nil {
			return fmt.Errorf("allreduce gradients: parameter %d of a bucket has no gradient", i)
		}
		dt, _ := grads[i].DType()
		dp.bytes += grads[i].Numel() * int64(dt.Size())
	}
	return dp.g.AllReduce(grads, torch.DistAvg)
}

// meanLoss averages the ranks' training losses for a metrics row.
func (dp *dataParallel) meanLoss(loss float64) (float64, error) {
	if dp == nil {
		return loss, nil
	}
	s := torch.NewScope()
	defer s.Close()
	t := float64s(loss)
	if err := dp.g.AllReduce([]*torch.Tensor{t}, torch.DistAvg); err != nil {
		return 0, fmt.Errorf("average the ranks' losses: %w", err)
	}
	v, err := readFloat64s(t)
	if err != nil {
		return 0, err
	}
	return v[0], nil
}

// decorate adds the data-parallel figures since the last row to a training
// row and starts counting anew.
func (dp *dataParallel) decorate(row *MetricsRow) {
	if dp == nil {
		return
	}
	row.World = dp.g.World()
	if dp.steps > 0 {
		n := float64(dp.steps)
		row.CommS = dp.wait.Seconds() / n
		row.CommHiddenS = dp.hidden.Seconds() / n
		row.CommBytes = dp.bytes / int64(dp.steps)
	}
	dp.steps, dp.wait, dp.hidden, dp.bytes = 0, 0, 0, 0
}

func (dp *dataParallel) close() {
	if dp == nil {
		return
	}
	dp.reducer.Close()
	dp.vote.Close()
}

// repartition converts a loader position saved by rank 0 of a run of
// p.World ranks into the position of part: the ranks read in lockstep, so
// p.Consumed·p.World items of the epoch's global sequence are behind them,
// and part.Rank continues at its share of that. A global position that is
// not a multiple of part.World is rounded down (those few items are read
// again); lost reports how many.
func repartition(p loader.Position, part Part) (out loader.Position, again int) {
	if p.World == part.World && p.Rank == part.Rank {
		return p, 0
	}
	w := max(1, p.World)
	global := p.Consumed * w
	out = p
	out.Rank, out.World = part.Rank, part.World
	out.Consumed = global / part.World
	return out, global - out.Consumed*part.World
}

// agreeOnCheckpoint checks that every rank found the same newest
// checkpoint step (-1 for none): checkpoints must be on a filesystem every
// rank reads.
func (dp *dataParallel) agreeOnCheckpoint(step int, root string) error {
	if dp == nil {
		return nil
	}
	a, b, err := dp.minMax(float64(step))
	if err != nil {
		return fmt.Errorf("agree on the checkpoint to resume: %w", err)
	}
	if a != b {
		return fmt.Errorf("resume in %s: the ranks see different newest checkpoints (steps %v to %v; -1 is none): "+
			"the run directory must be on a filesystem every rank reads", root, a, b)
	}
	return nil
}

// minMax returns the smallest and the largest of v over the ranks: equal
// when every rank holds the same value.
func (dp *dataParallel) minMax(v float64) (lo, hi float64, err error) {
	s := torch.NewScope()
	defer s.Close()
	tl, th := float64s(v), float64s(v)
	if err := dp.g.AllReduce([]*torch.Tensor{tl}, torch.DistMin); err != nil {
		return 0, 0, err
	}
	if err := dp.g.AllReduce([]*torch.Tensor{th}, torch.DistMax); err != nil {
		return 0, 0, err
	}
	if lo, err = tl.Item(); err != nil {
		return 0, 0, err
	}
	if hi, err = th.Item(); err != nil {
		return 0, 0, err
	}
	return lo, hi, nil
}

// agreeOnPrecision checks that every rank computes in the same precision,
// with or without loss scaling: ranks that differ would average gradients
// of different arithmetic, and only some would skip overflowing steps.
func (dp *dataParallel) agreeOnPrecision(p Precision, scaled bool) error {
	if dp == nil {
		return nil
	}
	code := float64(slices.Index(Precisions, p.orFP32()))
	if scaled {
		code += 0.5
	}
	a, b, err := dp.minMax(code)
	if err != nil {
		return fmt.Errorf("agree on the precision: %w", err)
	}
	if a != b {
		return fmt.Errorf("check precision: the ranks run in different precisions or loss scaling (rank %d: %s, scaled %v); "+
			"give every rank the same --precision", dp.part().Rank, p.orFP32(), scaled)
	}
	return nil
}

// float64s returns a float64 CPU tensor of vs.
func float64s(vs ...float64) *torch.Tensor {
	b := make([]byte, 8*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return torch.FromData(torch.Float64, b, int64(len(vs)))
}

// readFloat64s returns the values of a float64 tensor.
func readFloat64s(t *torch.Tensor) ([]float64, error) {
	b, err := t.Bytes()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(b)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return out, nil
}

// announceParts logs the global batch of a data-parallel run and the
// learning rate it gives.
func (r *run) announceParts() {
	if r.dp == nil {
		return
	}
	mode := "during backward"
	if r.dp.reducer == nil {
		mode = "after backward"
	}
	r.logf("%s: %d ranks × batch %d × accumulate %d = global batch %d; peak learning rate %.4g (%g per 256 images), %d warm-up steps; gradients averaged %s\n",
		r.cfg.Label, r.dp.world(), r.cfg.Batch, r.cfg.Accumulate, r.sched.Batch, r.sched.Peak(), r.sched.BaseLR, r.sched.WarmupSteps, mode)
}

// stopCause is the error of a run that stops because its context was
// cancelled, or because another rank's was.
func stopCause(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("another rank was interrupted: %w", context.Canceled)
}

// checkpointStep is the step of a checkpoint directory, -1 for none.
func checkpointStep(dir string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(dir), checkpointPrefix))
	if dir == "" || err != nil {
		return -1
	}
	return n
}

// rescale adapts a restored state to this run's part: the loader position
// of rank 0 of the saved world becomes this rank's in this world, at the
// same global sample position; with another global batch the step count
// becomes the number of this run's steps those images make. It returns the
// loader position to continue from.
func (r *run) rescale(st CheckpointState) *loader.Position {
	part := r.dp.part()
	if st.Loader == nil {
		return nil
	}
	pos, again := repartition(*st.Loader, part)
	if pos.World != st.Loader.World {
		r.logf("%s: the checkpoint was written by %d processes, this run has %d; continuing at the same global sample position\n",
			r.cfg.Label, st.Loader.World, part.World)
	}
	if again > 0 {
		r.logf("%s: %d images of the interrupted epoch are read again (the global position is not a multiple of %d processes)\n",
			r.cfg.Label, again, part.World)
	}
	gb := r.cfg.Batch * r.cfg.Accumulate * part.World
	if st.GlobalBatch > 0 && st.GlobalBatch != gb {
		step := int(int64(st.Step) * int64(st.GlobalBatch) / int64(gb))
		r.logf("%s: the global batch changes from %d to %d images: step %d of the checkpoint is step %d of this run\n",
			r.cfg.Label, st.GlobalBatch, gb, st.Step, step)
		r.step = step
	}
	return &pos
}
