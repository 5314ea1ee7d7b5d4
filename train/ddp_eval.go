package train

import (
	"context"
	"encoding/binary"
	"fmt"

	"weaksup/torch"
)

// evaluate runs the held-out evaluation, split across the ranks of a
// data-parallel run: rank r evaluates its part of val (the images at global
// positions r, r+World, …, within the first limit), rank 0 gathers every
// rank's scores, label sets and losses, puts the images back in the order
// one process reads them and computes the metrics, and every rank receives
// the result. The metrics therefore equal a one-process evaluation of the
// same weights, but for the last bits of the loss, summed in another order.
// The forward pass runs in prec. In one process it is EvaluateN in prec.
func (dp *dataParallel) evaluate(ctx context.Context, model Model, val Batches, loss string, dev torch.Device, limit int, prec Precision) (EvalResult, error) {
	if dp == nil {
		return evaluatePrecision(ctx, model, val, loss, dev, limit, prec)
	}
	part := dp.part()
	k := val.NumClasses()
	var scores []float32
	var labels [][]int32
	lossSum := 0.0
	local := limit
	if limit > 0 {
		local = max(0, (limit-part.Rank+part.World-1)/part.World)
	}
	if limit <= 0 || local > 0 {
		err := evalBatches(ctx, model, val, loss, dev, local, prec, func(s []float32, ls [][]int32, l float64) error {
			scores = append(scores, s...)
			for _, x := range ls {
				labels = append(labels, append([]int32(nil), x...))
			}
			lossSum += l
			return nil
		})
		if err != nil {
			return EvalResult{}, err
		}
	}
	s := torch.NewScope()
	defer s.Close()
	n, maxL := len(labels), 1
	for _, x := range labels {
		maxL = max(maxL, len(x))
	}
	size := float64s(float64(max(1, n)), float64(maxL))
	if err := dp.g.AllReduce([]*torch.Tensor{size}, torch.DistMax); err != nil {
		return EvalResult{}, fmt.Errorf("evaluate: %w", err)
	}
	sz, err := readFloat64s(size)
	if err != nil {
		return EvalResult{}, err
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
		if gathered[i], err = dp.g.Gather(t, 0); err != nil {
			return EvalResult{}, fmt.Errorf("evaluate: gather the ranks' results: %w", err)
		}
	}
	var res EvalResult
	if part.Rank == 0 {
		if res, err = assemble(gathered, part.World, rows, width, k); err != nil {
			return EvalResult{}, err
		}
	}
	return dp.shareResult(res)
}

// assemble computes the metrics on rank 0 from the gathered [n, loss sum],
// scores and label ids of every rank, taking the images in global order:
// rank r's i-th image is the (i·World + r)-th.
func assemble(g []*torch.Tensor, world, rows, width, k int) (EvalResult, error) {
	meta, err := readFloat64s(g[0])
	if err != nil {
		return EvalResult{}, err
	}
	scores, err := g[1].Float32s()
	if err != nil {
		return EvalResult{}, err
	}
	raw, err := g[2].Bytes()
	if err != nil {
		return EvalResult{}, err
	}
	ev := NewEvaluator(k)
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
				return EvalResult{}, err
			}
		}
	}
	ev.AddLoss(lossSum, total)
	return ev.Result(), nil
}

// shareResult gives every rank rank 0's result.
func (dp *dataParallel) shareResult(res EvalResult) (EvalResult, error) {
	t := float64s(float64(res.Images), res.PrecisionAt1, res.PrecisionAt5, res.Top1, res.Top5, res.MAP, float64(res.Classes), res.Loss)
	if err := dp.g.Broadcast([]*torch.Tensor{t}, 0, broadcastBytes); err != nil {
		return EvalResult{}, fmt.Errorf("evaluate: share the result: %w", err)
	}
	v, err := readFloat64s(t)
	if err != nil {
		return EvalResult{}, err
	}
	return EvalResult{Images: int(v[0]), PrecisionAt1: v[1], PrecisionAt5: v[2], Top1: v[3], Top5: v[4], MAP: v[5],
		Classes: int(v[6]), Loss: v[7]}, nil
}
