package loader

import (
	"fmt"
	"io"
	"slices"
	"testing"

	"weaksup/shards"
	"weaksup/shards/shardstest"
)

// blockSource is a Source of n-item blocks whose item i has label i%k.
type blockSource struct {
	blocks []int
	k      int
}

func (b blockSource) Len() int {
	n := 0
	for _, x := range b.blocks {
		n += x
	}
	return n
}
func (b blockSource) NumClasses() int               { return b.k }
func (b blockSource) Blocks() []int                 { return b.blocks }
func (b blockSource) Labels(i int) ([]int32, error) { return []int32{int32(i % b.k)}, nil }
func (b blockSource) Example(i int, _ []byte) (Example, error) {
	return Example{Key: fmt.Sprint(i), Labels: []int32{int32(i % b.k)}}, nil
}

func TestSubsetKeepsPrefixOfEachBlockAndNests(t *testing.T) {
	src := blockSource{blocks: []int{10, 3, 7}, k: 4}
	tests := []struct {
		fraction   float64
		wantBlocks []int
		wantKeys   []string
	}{
		{1, []int{10, 3, 7}, nil},
		{0.5, []int{5, 2, 4}, []string{"0", "1", "2", "3", "4", "10", "11", "13", "14", "15", "16"}},
		{0.1, []int{1, 1, 1}, []string{"0", "10", "13"}},
	}
	for _, tt := range tests {
		s, err := NewSubset(src, tt.fraction)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(s.Blocks()) != fmt.Sprint(tt.wantBlocks) {
			t.Errorf("fraction %v: blocks %v, want %v", tt.fraction, s.Blocks(), tt.wantBlocks)
		}
		if tt.wantKeys == nil {
			if s.Len() != src.Len() {
				t.Errorf("fraction 1: Len %d, want %d", s.Len(), src.Len())
			}
			continue
		}
		var keys []string
		counts := make([]int64, src.k)
		for i := 0; i < s.Len(); i++ {
			ex, err := s.Example(i, nil)
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, ex.Key)
			counts[ex.Labels[0]]++
		}
		if fmt.Sprint(keys) != fmt.Sprint(tt.wantKeys) {
			t.Errorf("fraction %v: keys %v, want %v", tt.fraction, keys, tt.wantKeys)
		}
		if fmt.Sprint(s.TagCounts()) != fmt.Sprint(counts) {
			t.Errorf("fraction %v: TagCounts %v, want %v", tt.fraction, s.TagCounts(), counts)
		}
	}
	for _, f := range []float64{0, -1, 1.5} {
		if _, err := NewSubset(src, f); err == nil {
			t.Errorf("NewSubset(%v) succeeded, want an error", f)
		}
	}
}

// Open with a Fraction yields, once per epoch, exactly the subset's
// items: the prefix of each shard.
func TestOpenLoaderFraction(t *testing.T) {
	rows := shardstest.Rows(t, 40, 4, 16)
	dir := shardstest.WriteDir(t, rows, 10, 4)
	l, err := Open(dir, Config{Batch: 4, ImageSize: 8, Epochs: 1, Fraction: 0.3, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := drain(t, l, -1)
	if err != io.EOF {
		t.Fatalf("drain: %v, want io.EOF after one epoch", err)
	}
	got := slices.Clone(s.keys)
	slices.Sort(got)
	var want []string
	for shard := 0; shard < 4; shard++ {
		for i := 0; i < 3; i++ { // ceil(0.3 × 10)
			want = append(want, rows[shard*10+i].Key)
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("keys with fraction 0.3 = %v, want %v", got, want)
	}
	m, err := shards.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := SubsetLen(m.Splits[shards.SplitTrain].Blocks(), 0.3); n != len(want) {
		t.Errorf("SubsetLen(blocks, 0.3) = %d, want %d", n, len(want))
	}
}
