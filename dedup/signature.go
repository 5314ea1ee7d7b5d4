package dedup

import (
	"fmt"
	"image"
	"math"
	"sync"

	"weaksup/phash"
	"weaksup/thumbnail"
)

// The sizes of a test image's reference thumbnail, from which the
// thumbnail of each of its views is cut: luma, then Cb and Cr.
const (
	RefSide       = 40
	RefChromaSide = 16
	refLumaLen    = RefSide * RefSide
	// RefLen is the length of a reference thumbnail in bytes.
	RefLen = refLumaLen + 2*RefChromaSide*RefChromaSide
)

// Signature is what the matcher keeps of one test image: the perceptual
// hash of each of its Views and its reference thumbnail (area averages of
// the whole image like a crawled image's thumbnail, at RefSide and
// RefChromaSide).
type Signature struct {
	Hashes []uint64 // by view, len(Views)
	Ref    []byte   // RefLen
}

// Sign computes the signature of a test image.
func Sign(img image.Image) (Signature, error) {
	if img == nil || img.Bounds().Empty() {
		return Signature{}, phash.ErrEmptyImage
	}
	s := Signature{Hashes: make([]uint64, len(Views)), Ref: thumbnail.Sized(img, RefSide, RefChromaSide)}
	for i, v := range Views {
		h, err := phash.Hash(v.Apply(img))
		if err != nil {
			return Signature{}, fmt.Errorf("hash view %s: %w", v.Name, err)
		}
		s.Hashes[i] = h
	}
	return s, nil
}

// viewCuts are, per view, the cuts of its thumbnail from a reference
// thumbnail: the luma, the chroma, and the luma at the chroma's size (the
// mean luma of each chroma cell).
var viewCuts = sync.OnceValue(func() [][3]thumbnail.Cut {
	out := make([][3]thumbnail.Cut, len(Views))
	for i, v := range Views {
		r := v.region(RefSide, RefSide)
		c := v.region(RefChromaSide, RefChromaSide)
		out[i] = [3]thumbnail.Cut{
			thumbnail.NewCut(r, RefSide, RefSide, thumbnail.Side, v.Mirror),
			thumbnail.NewCut(c, RefChromaSide, RefChromaSide, thumbnail.ChromaSide, v.Mirror),
			thumbnail.NewCut(r, RefSide, RefSide, thumbnail.ChromaSide, v.Mirror),
		}
	}
	return out
})

// viewChromaInto cuts the Cb then Cr thumbnails of view v (2*ChromaLen
// floats) from a reference thumbnail into dst.
func viewChromaInto(dst []float32, ref []byte, v int) {
	c := viewCuts()[v][1]
	var tmp [RefChromaSide * thumbnail.ChromaSide]float32
	const plane, n = RefChromaSide * RefChromaSide, thumbnail.ChromaLen
	c.Into(dst[:n], tmp[:], ref[refLumaLen:refLumaLen+plane])
	c.Into(dst[n:2*n], tmp[:], ref[refLumaLen+plane:refLumaLen+2*plane])
}

// viewThumbInto cuts the luma thumbnail of view v (thumbnail.Side squared,
// as floats) from a reference thumbnail into dst.
func viewThumbInto(dst []float32, ref []byte, v int) {
	var tmp [RefSide * thumbnail.Side]float32
	viewCuts()[v][0].Into(dst, tmp[:], ref[:refLumaLen])
}

// hasRef reports whether the signature has a reference thumbnail.
func (s Signature) hasRef() bool { return len(s.Ref) == RefLen }

// score correlates a prepared query with view v of the test image,
// without allocating.
func (s Signature) score(q signal, v int) float64 {
	var t, p [thumbnail.LumaLen]float32
	viewThumbInto(t[:], s.Ref, v)
	prepareInto(p[:], t[:])
	return correlate(q, p[:])
}

// chroma returns the chroma distance of a query to view v of the test
// image.
func (s Signature) chroma(q Query, v int) float64 {
	var c [2 * thumbnail.ChromaLen]float32
	var l [thumbnail.ChromaLen]float32
	var tmp [RefSide * thumbnail.ChromaSide]float32
	viewChromaInto(c[:], s.Ref, v)
	viewCuts()[v][2].Into(l[:], tmp[:], s.Ref[:refLumaLen])
	return chromaDistance(q.chroma, c[:], q.cellLuma, l[:])
}

// viewThumbnail returns the thumbnail of view v as a crawled copy cut like
// the view would have it (quantized like a stored thumbnail).
func (s Signature) viewThumbnail(v int) []byte {
	var l [thumbnail.LumaLen]float32
	var c [2 * thumbnail.ChromaLen]float32
	viewThumbInto(l[:], s.Ref, v)
	viewChromaInto(c[:], s.Ref, v)
	out := make([]byte, 0, thumbnail.Len)
	for _, f := range append(l[:], c[:]...) {
		out = append(out, uint8(min(max(math.Round(float64(f)), 0), 255)))
	}
	return out
}
