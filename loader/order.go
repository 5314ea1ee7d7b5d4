package loader

import (
	"math"
	"math/rand/v2"
)

// Sampling modes.
const (
	SamplingNatural = "natural" // every item once per epoch
	SamplingSqrt    = "sqrt"    // items drawn with replacement so tag frequency ∝ sqrt(count)
)

// Stream ids mixed into the seed so each use of randomness is independent.
const (
	streamOrder uint64 = iota + 1
	streamItem
)

// mix derives a 64-bit seed from the loader seed, the epoch and a stream id
// (splitmix64 finalizer over each input).
func mix(seed uint64, epoch int, stream uint64) uint64 {
	x := seed
	for _, v := range [...]uint64{uint64(epoch), stream} {
		x += 0x9e3779b97f4a7c15 + v
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
		x = (x ^ (x >> 27)) * 0x94d049bb133111eb
		x ^= x >> 31
	}
	return x
}

// epochOrder streams the global item order of one epoch. It is a pure
// function of (seed, epoch, blocks, sampling, shuffle buffer), so every rank
// computes the same order and a resume replays it to the saved point.
type epochOrder struct {
	rng *rand.Rand
	n   int // items emitted per epoch
	out int // items emitted so far

	// block order and shuffle buffer
	blocks    []int
	starts    []int
	perm      []int // block order
	blk, row  int   // next input: block perm[blk], row within it
	buf       []int // shuffle buffer
	bufSize   int
	noShuffle bool

	// sqrt sampling: how often each item was drawn this epoch, and how
	// many draws of the current item are still to be emitted
	mult []int32
	rep  int32
}

func newEpochOrder(seed uint64, epoch int, blocks, starts []int, n int, shuffleBuf int, noShuffle bool, alias *aliasTable) *epochOrder {
	s := mix(seed, epoch, streamOrder)
	shuffleBuf = max(shuffleBuf, 1) // a buffer of one keeps block order
	o := &epochOrder{rng: rand.New(rand.NewPCG(s, s^0xda3e39cb94b95bdb)), n: n, blocks: blocks, starts: starts,
		bufSize: shuffleBuf, noShuffle: noShuffle}
	if alias != nil {
		// Draw the epoch's multiset first, then stream it in block order
		// through the shuffle buffer like natural sampling, so reads stay
		// within a few shards at a time instead of jumping across all.
		o.mult = make([]int32, n)
		for range n {
			o.mult[alias.draw(o.rng)]++
		}
	}
	o.perm = make([]int, len(blocks))
	for i := range o.perm {
		o.perm[i] = i
	}
	if !noShuffle {
		o.rng.Shuffle(len(o.perm), func(i, j int) { o.perm[i], o.perm[j] = o.perm[j], o.perm[i] })
		o.buf = make([]int, 0, shuffleBuf)
	}
	return o
}

// input returns the next item in block order (with its multiplicity under
// sqrt sampling).
func (o *epochOrder) input() (int, bool) {
	for o.blk < len(o.perm) {
		b := o.perm[o.blk]
		for o.row < o.blocks[b] {
			i := o.starts[b] + o.row
			if o.mult == nil {
				o.row++
				return i, true
			}
			if o.rep < o.mult[i] {
				o.rep++
				return i, true
			}
			o.row++
			o.rep = 0
		}
		o.blk++
		o.row = 0
	}
	return 0, false
}

// next returns the next global item, or false at the end of the epoch.
func (o *epochOrder) next() (int, bool) {
	if o.out >= o.n {
		return 0, false
	}
	o.out++
	if o.noShuffle {
		return o.input()
	}
	for len(o.buf) < o.bufSize {
		i, ok := o.input()
		if !ok {
			break
		}
		o.buf = append(o.buf, i)
	}
	j := o.rng.IntN(len(o.buf))
	item := o.buf[j]
	if in, ok := o.input(); ok {
		o.buf[j] = in
	} else {
		last := len(o.buf) - 1
		o.buf[j] = o.buf[last]
		o.buf = o.buf[:last]
	}
	return item, true
}

// aliasTable draws index i with probability w[i]/sum(w) in O(1) (Vose's
// alias method).
type aliasTable struct {
	prob  []float64
	alias []int
}

func newAliasTable(w []float64) *aliasTable {
	n := len(w)
	t := &aliasTable{prob: make([]float64, n), alias: make([]int, n)}
	sum := 0.0
	for _, v := range w {
		sum += v
	}
	scaled := make([]float64, n)
	var small, large []int
	for i, v := range w {
		scaled[i] = v * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		t.prob[s], t.alias[s] = scaled[s], l
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range append(small, large...) {
		t.prob[i], t.alias[i] = 1, i
	}
	return t
}

func (t *aliasTable) draw(r *rand.Rand) int {
	i := r.IntN(len(t.prob))
	if r.Float64() < t.prob[i] {
		return i
	}
	return t.alias[i]
}

// sqrtWeights gives each item the weight sum over its labels of
// 1/sqrt(count(label)). Drawing items by these weights and then one of the
// item's labels picks label t with probability ∝ count(t)·(1/sqrt(count(t)))
// = sqrt(count(t)): the square-root resampling of Mahajan et al. Items
// without labels get weight 0.
func sqrtWeights(labels func(i int) ([]int32, error), n int, counts []int64) ([]float64, error) {
	w := make([]float64, n)
	for i := range w {
		l, err := labels(i)
		if err != nil {
			return nil, err
		}
		for _, t := range l {
			if int(t) < len(counts) && counts[t] > 0 {
				w[i] += 1 / math.Sqrt(float64(counts[t]))
			}
		}
	}
	return w, nil
}
