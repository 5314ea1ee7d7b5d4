package ddp

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	"weaksup/torch"
	"weaksup/train"
)

// Evaluate runs the held-out evaluation, split across the ranks of a
// data-parallel run: rank r evaluates its part of val (the images at global
// positions r, r+World, …, within the first limit), rank 0 gathers every
// rank's scores, label sets and losses, puts the images back in the order
// one process reads them and computes the metrics, and every rank receives
// the result. The metrics therefore equal a one-process evaluation of the
// same weights, but for the last bits of the loss, summed in another order.
func (d *Replicas) Evaluate(ctx context.Context, model train.Model, val train.Batches, o train.EvalOptions) (train.EvalResult, error) {
	part := d.Part()
	limit := o.Limit
	k := val.NumClasses()
	var scores []float32
	var labels [][]int32
	lossSum := 0.0
	local := limit
	if limit > 0 {
		local = max(0, (limit-part.Rank+part.World-1)/part.World)
	}
	if limit <= 0 || local > 0 {
		lo := o
		lo.Limit = local
		err := train.ScoreBatches(ctx, model, val, lo, func(s []float32, ls [][]int32, l float64) error {
			scores = append(scores, s...)
			for _, x := range ls {
				labels = append(labels, append([]int32(nil), x...))
			}
			lossSum += l
			return nil
		})
		if err != nil {
			return train.EvalResult{}, err
		}
	}
	s := torch.NewScope()
	defer s.Close()
	n, maxL := len(labels), 1
	for _, x := range labels {
		maxL = max(maxL, len(x))
	}
	size := float64s(float64(max(1, n)), float64(maxL))
	if err := d.g.AllReduce([]*torch.Tensor{size}, torch.DistMax); err != nil {
		return train.EvalResult{}, fmt.Errorf("evaluate: %w", err)
	}
	sz, err := readFloat64s(size)
	if err != nil {
		return train.EvalResult{}, err
	}
	rows, width := int(sz[0]), int(sz[1])

	padded := make([]float32, rows*k)
	copy(padded, scores)
	ids := make([]byte, 4*rows*width)
	for i := range rows * width {
		binary.LittleEndian.PutUint32(ids[4*i:], uint32(0xffffffff)) // -1: no label
	}
	for i, x := range labels {
		for j, l := range x {
			binary.LittleEndian.PutUint32(ids[4*(i*width+j):], uint32(l))
		}
	}
	parts := []*torch.Tensor{
		float64s(float64(n), lossSum),
		torch.FromFloat32(padded, int64(rows), int64(k)),
		torch.FromData(torch.Int32, ids, int64(rows), int64(width)),
	}
	gathered := make([]*torch.Tensor, len(parts))
	for i, t := range parts {
		if gathered[i], err = d.g.Gather(t, 0); err != nil {
			return train.EvalResult{}, fmt.Errorf("evaluate: gather the ranks' results: %w", err)
		}
	}
	var res train.EvalResult
	if part.Rank == 0 {
		if res, err = assemble(gathered, part.World, rows, width, k); err != nil {
			return train.EvalResult{}, err
		}
	}
	return d.shareResult(res)
}

// assemble computes the metrics on rank 0 from the gathered [n, loss sum],
// scores and label ids of every rank, taking the images in global order:
// rank r's i-th image is the (i·World + r)-th.
func assemble(g []*torch.Tensor, world, rows, width, k int) (train.EvalResult, error) {
	meta, err := readFloat64s(g[0])
	if err != nil {
		return train.EvalResult{}, err
	}
	scores, err := g[1].Float32s()
	if err != nil {
		return train.EvalResult{}, err
	}
	raw, err := g[2].Bytes()
	if err != nil {
		return train.EvalResult{}, err
	}
	ev := train.NewEvaluator(k)
	counts := make([]int, world)
	total, lossSum := 0, 0.0
	for r := range world {
		counts[r] = int(meta[2*r])
		total += counts[r]
		lossSum += meta[2*r+1]
	}
	for i := range rows {
		for r := range world {
			if i >= counts[r] {
				continue
			}
			at := r*rows + i
			var ls []int32
			for j := range width {
				l := int32(binary.LittleEndian.Uint32(raw[4*(at*width+j):]))
				if l < 0 {
					break
				}
				ls = append(ls, l)
			}
			if err := ev.Add(scores[at*k:(at+1)*k], [][]int32{ls}); err != nil {
				return train.EvalResult{}, err
			}
		}
	}
	ev.AddLoss(lossSum, total)
	return ev.Result(), nil
}

// shareResult gives every rank rank 0's result.
func (d *Replicas) shareResult(res train.EvalResult) (train.EvalResult, error) {
	t := float64s(float64(res.Images), res.PrecisionAt1, res.PrecisionAt5, res.Top1, res.Top5, res.MAP, float64(res.Classes), res.Loss)
	if err := d.g.Broadcast([]*torch.Tensor{t}, 0, broadcastBytes); err != nil {
		return train.EvalResult{}, fmt.Errorf("evaluate: share the result: %w", err)
	}
	v, err := readFloat64s(t)
	if err != nil {
		return train.EvalResult{}, err
	}
	return train.EvalResult{Images: int(v[0]), PrecisionAt1: v[1], PrecisionAt5: v[2], Top1: v[3], Top5: v[4], MAP: v[5],
		Classes: int(v[6]), Loss: v[7]}, nil
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
