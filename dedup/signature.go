package dedup

import (
	"fmt"
	"image"
	"slices"
	"sync"
)

// RefSide is the side of a test image's reference thumbnail, from which
// the thumbnail of each of its views is cut.
const RefSide = 40

// Signature is what the matcher keeps of one test image: the perceptual
// hash of each of its Views and its reference thumbnail (RefSide x RefSide
// luma area averages of the whole image, like a Thumbnail).
type Signature struct {
	Hashes []uint64 // by view, len(Views)
	Ref    []byte   // RefSide * RefSide
}

// Sign computes the signature of a test image.
func Sign(img image.Image) (Signature, error) {
	if img == nil || img.Bounds().Empty() {
		return Signature{}, ErrEmptyImage
	}
	s := Signature{Hashes: make([]uint64, len(Views)), Ref: thumbnailOf(img, RefSide)}
	for i, v := range Views {
		h, err := PHash(v.Apply(img))
		if err != nil {
			return Signature{}, fmt.Errorf("hash view %s: %w", v.Name, err)
		}
		s.Hashes[i] = h
	}
	return s, nil
}

// viewWeights are, per view, the area weights that cut its thumbnail from
// a reference thumbnail: columns, then rows.
var viewWeights = sync.OnceValue(func() [][2]weights {
	out := make([][2]weights, len(Views))
	for i, v := range Views {
		r := v.region(RefSide, RefSide)
		out[i] = [2]weights{areaWeights(r.x0, r.x1, RefSide, ThumbSide), areaWeights(r.y0, r.y1, RefSide, ThumbSide)}
	}
	return out
})

// viewThumbInto cuts the thumbnail of view v (ThumbSide x ThumbSide, as
// floats) from a reference thumbnail into dst.
func viewThumbInto(dst []float32, ref []byte, v int) {
	w := viewWeights()[v]
	var tmp [RefSide * ThumbSide]float32
	for y := w[1].lo; y < w[1].hi; y++ {
		row := ref[y*RefSide : (y+1)*RefSide]
		for j, taps := range w[0].taps {
			var s float32
			for _, t := range taps {
				s += t.w * float32(row[t.i])
			}
			tmp[y*ThumbSide+j] = s
		}
	}
	clear(dst[:ThumbLen])
	for i, taps := range w[1].taps {
		out := dst[i*ThumbSide : (i+1)*ThumbSide]
		for _, t := range taps {
			src := tmp[t.i*ThumbSide : (t.i+1)*ThumbSide]
			for j := range out {
				out[j] += t.w * src[j]
			}
		}
	}
	if Views[v].Mirror {
		for y := range ThumbSide {
			row := dst[y*ThumbSide : (y+1)*ThumbSide]
			for l, r := 0, ThumbSide-1; l < r; l, r = l+1, r-1 {
				row[l], row[r] = row[r], row[l]
			}
		}
	}
}

// viewThumb returns the thumbnail of view v cut from a reference thumbnail.
func viewThumb(ref []byte, v View) []float32 {
	out := make([]float32, ThumbLen)
	viewThumbInto(out, ref, slices.IndexFunc(Views, func(o View) bool { return o == v }))
	return out
}

// hasRef reports whether the signature has a reference thumbnail.
func (s Signature) hasRef() bool { return len(s.Ref) == RefSide*RefSide }

// viewSignal is the prepared thumbnail of view v of the test image, or nil
// when the signature has no reference thumbnail.
func (s Signature) viewSignal(v int) signal {
	if !s.hasRef() {
		return nil
	}
	var t [ThumbLen]float32
	viewThumbInto(t[:], s.Ref, v)
	return prepare(t[:])
}

// score correlates a prepared query with view v of the test image,
// without allocating.
func (s Signature) score(q signal, v int) float64 {
	var t, p [ThumbLen]float32
	viewThumbInto(t[:], s.Ref, v)
	prepareInto(p[:], t[:])
	return correlate(q, p[:])
}
