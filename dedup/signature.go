package dedup

import (
	"fmt"
	"image"
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

// viewThumb cuts the thumbnail of view v (ThumbSide x ThumbSide, as floats)
// from a reference thumbnail.
func viewThumb(ref []byte, v View) []float32 {
	p := luma{pix: ref, w: RefSide, h: RefSide}
	t := p.area(v.region(RefSide, RefSide), ThumbSide)
	if v.Mirror {
		for y := range ThumbSide {
			row := t[y*ThumbSide : (y+1)*ThumbSide]
			for l, r := 0, ThumbSide-1; l < r; l, r = l+1, r-1 {
				row[l], row[r] = row[r], row[l]
			}
		}
	}
	return t
}

// viewSignal is the prepared thumbnail of view v of the test image, or nil
// when the signature has no reference thumbnail.
func (s Signature) viewSignal(v int) signal {
	if len(s.Ref) != RefSide*RefSide {
		return nil
	}
	return prepare(viewThumb(s.Ref, Views[v]))
}
