package finetune

import (
	"context"
	"fmt"
	"path/filepath"

	"weaksup/datasets"
	"weaksup/loader"
	"weaksup/torch"
	"weaksup/train"
)

// cachedFeaturesParts is CachedFeatures with the extraction split across
// the ranks of g (nil: one process): rank 0 looks in the cache and tells
// the others; on a miss every rank extracts the share of images the loader
// gives its rank (positions r, r+World, …) and rank 0 gathers the shares
// back in order and writes the cache. Rank 0 returns the features; the
// others nil. A distributed extraction is not resumed part-way: an
// interrupted one starts again.
func cachedFeaturesParts(ctx context.Context, g *torch.Group, dir, name, key string, m train.Model, split datasets.Split, numClasses int,
	o ExtractOptions) (*Features, bool, error) {
	if g == nil {
		return CachedFeatures(ctx, dir, name, key, m, split, numClasses, o)
	}
	n := split.Len()
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.feat", name, key[:min(16, len(key))]))
	var cached *Features
	if g.Rank() == 0 {
		if f, err := ReadFeatures(path, key); err == nil && f.Len() == n && f.Classes == numClasses && f.Done == f.Len() {
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
		return nil, false, fmt.Errorf("features %s: %w", name, err)
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
		return nil, false, fmt.Errorf("features %s: %w", name, err)
	}
	part := train.Part{Rank: g.Rank(), World: g.World()}
	if o.Label == "" {
		o.Label = "features " + name
	}
	mine, dim, err := extractPart(ctx, m, split, numClasses, part, o)
	if err != nil {
		return nil, false, err
	}
	rows := len(mine) / max(1, dim)
	size := torch.FromFloat32([]float32{float32(max(1, rows)), float32(dim)}, 2)
	if err := g.AllReduce([]*torch.Tensor{size}, torch.DistMax); err != nil {
		return nil, false, fmt.Errorf("features %s: %w", name, err)
	}
	sz, err := size.Float32s()
	if err != nil {
		return nil, false, err
	}
	rows, dim = int(sz[0]), int(sz[1])
	padded := make([]float32, rows*dim)
	copy(padded, mine)
	all, err := g.Gather(torch.FromFloat32(padded, int64(rows), int64(dim)), 0)
	if err != nil {
		return nil, false, fmt.Errorf("features %s: gather the ranks' features: %w", name, err)
	}
	if part.Rank != 0 {
		return nil, false, nil
	}
	v, err := all.Float32s()
	if err != nil {
		return nil, false, err
	}
	out := &Features{Dim: dim, Classes: numClasses, Vectors: make([]float32, n*dim), Labels: make([]int32, n), Done: n}
	for i := range n {
		r, j := i%part.World, i/part.World
		copy(out.Row(i), v[(r*rows+j)*dim:(r*rows+j+1)*dim])
		out.Labels[i] = split.Class(i)
	}
	if err := WriteFeatures(path, key, out); err != nil {
		return nil, false, err
	}
	return out, false, nil
}

// extractPart returns the pooled features of part's share of the images of
// split, as the loader hands it to rank part.Rank: image j of the share is
// image j·World+Rank of split. A rank whose share is empty (fewer images
// than ranks) returns none.
func extractPart(ctx context.Context, m train.Model, split datasets.Split, numClasses int, part train.Part, o ExtractOptions) (
	vectors []float32, dim int, err error) {
	n := (split.Len() - part.Rank + part.World - 1) / part.World
	if n <= 0 {
		return nil, 0, nil
	}
	done := 0
	err = forImages(ctx, split, numClasses, part, 0, o, func(x *torch.Tensor, b *loader.Batch) error {
		v, err := pooledFeatures(m, x, o.Device)
		if err != nil {
			return err
		}
		if vectors == nil {
			dim = len(v) / b.N
			vectors = make([]float32, n*dim)
		}
		if len(v) != b.N*dim {
			return fmt.Errorf("got %d features for %d images of dim %d", len(v), b.N, dim)
		}
		for k := range b.N {
			if want := done*part.World + part.Rank; b.Items[k] != want {
				return fmt.Errorf("image %d came out of order (want %d)", b.Items[k], want)
			}
			copy(vectors[done*dim:(done+1)*dim], v[k*dim:(k+1)*dim])
			done++
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("extract features: %w", err)
	}
	if done != n {
		return nil, 0, fmt.Errorf("extract features: %d of %d images of rank %d", done, n, part.Rank)
	}
	return vectors, dim, nil
}
