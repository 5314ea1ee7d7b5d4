package loader

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
)

// labelNoise injects synthetic label noise as in the label-noise experiment
// of Mahajan et al. (ECCV 2018): each label of an image is replaced, with
// probability p, by a tag drawn from the marginal tag distribution (tag t
// with probability count(t)/Σcount). A replacement may coincide with the
// original tag or with another label of the same image; both are kept, so
// the replaced fraction is exactly p in expectation. A labelNoise is
// read-only after construction and safe for concurrent use.
type labelNoise struct {
	p   float64
	cum []float64 // cumulative tag probabilities; cum[len-1] == 1
}

// newLabelNoise returns noise with replacement probability p over the tag
// marginal given by counts (images per vocabulary id).
func newLabelNoise(p float64, counts []int64) (*labelNoise, error) {
	if p < 0 || p > 1 {
		return nil, fmt.Errorf("make label noise: probability %g is outside [0,1]", p)
	}
	var sum float64
	cum := make([]float64, len(counts))
	for i, c := range counts {
		if c < 0 {
			return nil, fmt.Errorf("make label noise: tag %d has negative count %d", i, c)
		}
		sum += float64(c)
		cum[i] = sum
	}
	if sum == 0 {
		return nil, errors.New("make label noise: the tag counts are all zero")
	}
	for i := range cum {
		cum[i] /= sum
	}
	cum[len(cum)-1] = 1
	return &labelNoise{p: p, cum: cum}, nil
}

// draw returns a tag id from the marginal distribution.
func (n *labelNoise) draw(r *rand.Rand) int32 {
	u := r.Float64()
	// The first tag whose cumulative probability exceeds u; zero-count tags
	// add nothing to the sum and are never chosen.
	i := sort.Search(len(n.cum), func(k int) bool { return n.cum[k] > u })
	return int32(i)
}

// apply appends labels to dst with each one replaced with probability p.
// The random draws consumed depend only on labels and r, so a seeded r
// reproduces the result.
func (n *labelNoise) apply(dst, labels []int32, r *rand.Rand) []int32 {
	for _, t := range labels {
		if r.Float64() < n.p {
			t = n.draw(r)
		}
		dst = append(dst, t)
	}
	return dst
}
