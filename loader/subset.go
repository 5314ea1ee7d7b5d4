package loader

import (
	"fmt"
	"math"
)

// Subset is a Source over a fraction of another source's items: the first
// ceil(fraction × n) items of each block. Shards are written in a seeded
// random order, so the prefix of every shard is a random sample of the
// split, and a smaller fraction's items are always among a larger one's —
// the nested subsets a data-scale experiment needs.
type Subset struct {
	src    Source
	blocks []int
	index  []int // subset item → source item
}

var (
	_ Source     = (*Subset)(nil)
	_ TagCounter = (*Subset)(nil)
	_ Prefetcher = (*Subset)(nil)
)

// NewSubset returns the subset of src that keeps fraction (0, 1] of each
// block.
func NewSubset(src Source, fraction float64) (*Subset, error) {
	if !(fraction > 0 && fraction <= 1) {
		return nil, fmt.Errorf("subset: fraction %v, want in (0, 1]", fraction)
	}
	s := &Subset{src: src}
	start := 0
	for _, b := range src.Blocks() {
		keep := keptOf(b, fraction)
		if keep > 0 {
			s.blocks = append(s.blocks, keep)
			for i := 0; i < keep; i++ {
				s.index = append(s.index, start+i)
			}
		}
		start += b
	}
	if len(s.index) == 0 {
		return nil, fmt.Errorf("subset: fraction %v of %d items keeps none", fraction, src.Len())
	}
	return s, nil
}

// Len is the number of items kept.
func (s *Subset) Len() int { return len(s.index) }

// NumClasses is the source's label space.
func (s *Subset) NumClasses() int { return s.src.NumClasses() }

// Blocks are the kept prefixes of the source's blocks.
func (s *Subset) Blocks() []int { return s.blocks }

// Labels returns the labels of kept item i.
func (s *Subset) Labels(i int) ([]int32, error) { return s.src.Labels(s.index[i]) }

// Example reads kept item i.
func (s *Subset) Example(i int, buf []byte) (Example, error) { return s.src.Example(s.index[i], buf) }

// Prefetch passes the kept items on to the source, if it prefetches.
func (s *Subset) Prefetch(items []int) {
	pf, ok := s.src.(Prefetcher)
	if !ok {
		return
	}
	src := make([]int, len(items))
	for k, i := range items {
		src[k] = s.index[i]
	}
	pf.Prefetch(src)
}

// Where names kept item i as the source does (a shard and row), for error
// messages.
func (s *Subset) Where(i int) string {
	if w, ok := s.src.(interface{ Where(int) string }); ok {
		return w.Where(s.index[i])
	}
	return fmt.Sprintf("item %d", s.index[i])
}

// TagCounts counts the kept items carrying each label (square-root
// sampling and label noise need the subset's own distribution).
func (s *Subset) TagCounts() []int64 {
	counts := make([]int64, s.src.NumClasses())
	for i := range s.index {
		labels, err := s.Labels(i)
		if err != nil {
			continue
		}
		for _, l := range labels {
			if l >= 0 && int(l) < len(counts) {
				counts[l]++
			}
		}
	}
	return counts
}

// keptOf is how many of a block's n items a subset keeps.
func keptOf(n int, fraction float64) int { return min(n, int(math.Ceil(fraction*float64(n)))) }

// SubsetLen is the number of items a Subset with the given fraction keeps
// of a source with these blocks, e.g. of a shard split from its manifest
// (shards.Split.Blocks) without opening a shard.
func SubsetLen(blocks []int, fraction float64) int {
	n := 0
	for _, b := range blocks {
		n += keptOf(b, fraction)
	}
	return n
}
