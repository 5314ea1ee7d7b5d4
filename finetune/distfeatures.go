package finetune

import (
	"context"
	"fmt"
	"path/filepath"

	"weaksup/torch"
	"weaksup/train"
)

// cachedFeaturesParts is CachedFeatures with the extraction split across
// the ranks of g (nil: one process): rank 0 looks in the cache and tells
// the others; on a miss every rank extracts its part of items (the images
// at positions r, r+World, …) and rank 0 gathers the parts back in order
// and writes the cache. Rank 0 returns the features; the others nil.
// A distributed extraction is not resumed part-way: an interrupted one
// starts again.
func cachedFeaturesParts(ctx context.Context, g *torch.Group, dir, split, key string, m train.Model, items []Item, numClasses int,
	o ExtractOptions) (*Features, bool, error) {
	if g == nil {
		return CachedFeatures(ctx, dir, split, key, m, items, numClasses, o)
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.feat", split, key[:min(16, len(key))]))
	var cached *Features
	if g.Rank() == 0 {
		if f, err := ReadFeatures(path, key); err == nil && f.Len() == len(items) && f.Classes == numClasses && f.Done == f.Len() {
			cached = f
		}
	}
	s := torch.NewScope()
	defer s.Close()
	flag := torch.Zeros(torch.Float32, torch.CPU, 1)
	if cached != nil {
		flag = torch.Ones(torch.Float32, torch.CPU, 1)
	}
	if err := g.Broadcast([]*torch.Tensor{flag}, 0, 1<<20); err != nil {
		return nil, false, fmt.Errorf("features %s: %w", split, err)
	}
	if v, err := flag.Item(); err != nil || v > 0 {
		return cached, err == nil, err
	}

	// Every rank extracts with rank 0's weights.
	var ps []*torch.Tensor
	for _, p := range m.Parameters() {
		ps = append(ps, p.Tensor)
	}
	if err := torch.NoGrad(func() error { return g.Broadcast(ps, 0, 250<<20) }); err != nil {
		return nil, false, fmt.Errorf("features %s: %w", split, err)
	}
	rank, world := g.Rank(), g.World()
	var mine []Item
	for i := rank; i < len(items); i += world {
		mine = append(mine, items[i])
	}
	var f *Features
	if len(mine) > 0 {
		if o.Label == "" {
			o.Label = "features " + split
		}
		var err error
		if f, err = Extract(ctx, m, mine, numClasses, o); err != nil {
			return nil, false, err
		}
	}
	n, dim := 0, 0
	if f != nil {
		n, dim = f.Len(), f.Dim
	}
	size := torch.FromFloat32([]float32{float32(max(1, n)), float32(dim)}, 2)
	if err := g.AllReduce([]*torch.Tensor{size}, torch.DistMax); err != nil {
		return nil, false, fmt.Errorf("features %s: %w", split, err)
	}
	sz, err := size.Float32s()
	if err != nil {
		return nil, false, err
	}
	rows, dim := int(sz[0]), int(sz[1])
	padded := make([]float32, rows*dim)
	if f != nil {
		copy(padded, f.Vectors)
	}
	all, err := g.Gather(torch.FromFloat32(padded, int64(rows), int64(dim)), 0)
	if err != nil {
		return nil, false, fmt.Errorf("features %s: gather the ranks' features: %w", split, err)
	}
	if rank != 0 {
		return nil, false, nil
	}
	v, err := all.Float32s()
	if err != nil {
		return nil, false, err
	}
	out := &Features{Dim: dim, Classes: numClasses, Vectors: make([]float32, len(items)*dim), Labels: make([]int32, len(items)), Done: len(items)}
	for i, it := range items {
		r, j := i%world, i/world
		copy(out.Row(i), v[(r*rows+j)*dim:(r*rows+j+1)*dim])
		out.Labels[i] = it.Class
	}
	if err := WriteFeatures(path, key, out); err != nil {
		return nil, false, err
	}
	return out, false, nil
}
