package datasets

import (
	"fmt"
	"io"
	"math/rand/v2"
)

// Subset is the images of a split at the indices Index, in that order.
type Subset struct {
	Of    Split
	Index []int
}

var _ Split = Subset{}

func (s Subset) Len() int                              { return len(s.Index) }
func (s Subset) Class(i int) int32                     { return s.Of.Class(s.Index[i]) }
func (s Subset) Where(i int) string                    { return s.Of.Where(s.Index[i]) }
func (s Subset) Read(i int, buf []byte) (Image, error) { return s.Of.Read(s.Index[i], buf) }

// Fingerprint describes the indices and the split they index.
func (s Subset) Fingerprint(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "subset %v\n", s.Index); err != nil {
		return err
	}
	return s.Of.Fingerprint(w)
}

// Carve divides a split's images, class by class, into a training part and
// a held-out part of fraction of each class's images (at least one where a
// class has two or more), chosen by seed: the validation split a
// learning-rate search scores on, carved from the training images so that
// a task's own val split is only touched by the final run. Each part keeps
// the split's order; the same split, fraction and seed always carve the
// same way.
func Carve(s Split, fraction float64, seed uint64) (trainPart, heldOut Subset, err error) {
	if fraction <= 0 || fraction >= 1 {
		return Subset{}, Subset{}, fmt.Errorf("carve a validation split: fraction %v, want in (0, 1)", fraction)
	}
	byClass := map[int32][]int{}
	var classes []int32
	for i := range s.Len() {
		c := s.Class(i)
		if _, ok := byClass[c]; !ok {
			classes = append(classes, c)
		}
		byClass[c] = append(byClass[c], i)
	}
	held := make([]bool, s.Len())
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	for _, c := range classes {
		idx := byClass[c]
		n := int(fraction * float64(len(idx)))
		if n == 0 && len(idx) >= 2 {
			n = 1
		}
		for _, j := range rng.Perm(len(idx))[:n] {
			held[idx[j]] = true
		}
	}
	trainPart, heldOut = Subset{Of: s}, Subset{Of: s}
	for i, h := range held {
		if h {
			heldOut.Index = append(heldOut.Index, i)
		} else {
			trainPart.Index = append(trainPart.Index, i)
		}
	}
	if heldOut.Len() == 0 {
		return Subset{}, Subset{}, fmt.Errorf("carve a validation split: no class of the %d images has two", s.Len())
	}
	return trainPart, heldOut, nil
}
