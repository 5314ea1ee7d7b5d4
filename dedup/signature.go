package dedup

import (
	"fmt"
	"image"
	"math"
	"sync"
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
// the whole image like a Thumbnail, at RefSide and RefChromaSide).
type Signature struct {
	Hashes []uint64 // by view, len(Views)
	Ref    []byte   // RefLen
}

// Sign computes the signature of a test image.
func Sign(img image.Image) (Signature, error) {
	if img == nil || img.Bounds().Empty() {
		return Signature{}, ErrEmptyImage
	}
	s := Signature{Hashes: make([]uint64, len(Views)), Ref: thumbnailOf(img, RefSide, RefChromaSide)}
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
// a reference thumbnail: luma columns and rows, chroma columns and rows,
// and luma at the chroma's size (the mean luma of each chroma cell).
var viewWeights = sync.OnceValue(func() [][6]weights {
	out := make([][6]weights, len(Views))
	for i, v := range Views {
		r := v.region(RefSide, RefSide)
		c := v.region(RefChromaSide, RefChromaSide)
		out[i] = [6]weights{
			areaWeights(r.x0, r.x1, RefSide, ThumbSide), areaWeights(r.y0, r.y1, RefSide, ThumbSide),
			areaWeights(c.x0, c.x1, RefChromaSide, ChromaSide), areaWeights(c.y0, c.y1, RefChromaSide, ChromaSide),
			areaWeights(r.x0, r.x1, RefSide, ChromaSide), areaWeights(r.y0, r.y1, RefSide, ChromaSide),
		}
	}
	return out
})

// cutInto resamples the src x src plane through the weights wx, wy into
// the n x n plane dst (tmp holds at least src*n values), mirrored when
// mirror is set.
func cutInto(dst, tmp []float32, plane []byte, src, n int, wx, wy weights, mirror bool) {
	for y := wy.lo; y < wy.hi; y++ {
		row := plane[y*src : (y+1)*src]
		for j, taps := range wx.taps {
			var s float32
			for _, t := range taps {
				s += t.w * float32(row[t.i])
			}
			tmp[y*n+j] = s
		}
	}
	clear(dst[:n*n])
	for i, taps := range wy.taps {
		out := dst[i*n : (i+1)*n]
		for _, t := range taps {
			src := tmp[t.i*n : (t.i+1)*n]
			for j := range out {
				out[j] += t.w * src[j]
			}
		}
	}
	if mirror {
		for y := range n {
			row := dst[y*n : (y+1)*n]
			for l, r := 0, n-1; l < r; l, r = l+1, r-1 {
				row[l], row[r] = row[r], row[l]
			}
		}
	}
}

// viewChromaInto cuts the Cb then Cr thumbnails of view v (2*chromaLen
// floats) from a reference thumbnail into dst.
func viewChromaInto(dst []float32, ref []byte, v int) {
	w := viewWeights()[v]
	var tmp [RefChromaSide * ChromaSide]float32
	const plane = RefChromaSide * RefChromaSide
	cutInto(dst[:chromaLen], tmp[:], ref[refLumaLen:refLumaLen+plane], RefChromaSide, ChromaSide, w[2], w[3], Views[v].Mirror)
	cutInto(dst[chromaLen:2*chromaLen], tmp[:], ref[refLumaLen+plane:refLumaLen+2*plane], RefChromaSide, ChromaSide, w[2], w[3], Views[v].Mirror)
}

// viewThumbInto cuts the luma thumbnail of view v (ThumbSide x ThumbSide,
// as floats) from a reference thumbnail into dst.
func viewThumbInto(dst []float32, ref []byte, v int) {
	w := viewWeights()[v]
	var tmp [RefSide * ThumbSide]float32
	cutInto(dst, tmp[:], ref[:refLumaLen], RefSide, ThumbSide, w[0], w[1], Views[v].Mirror)
}

// hasRef reports whether the signature has a reference thumbnail.
func (s Signature) hasRef() bool { return len(s.Ref) == RefLen }

// score correlates a prepared query with view v of the test image,
// without allocating.
func (s Signature) score(q signal, v int) float64 {
	var t, p [lumaLen]float32
	viewThumbInto(t[:], s.Ref, v)
	prepareInto(p[:], t[:])
	return correlate(q, p[:])
}

// chroma returns the chroma distance of a query to view v of the test
// image.
func (s Signature) chroma(q Query, v int) float64 {
	var c [2 * chromaLen]float32
	var l [chromaLen]float32
	var tmp [RefSide * ChromaSide]float32
	viewChromaInto(c[:], s.Ref, v)
	w := viewWeights()[v]
	cutInto(l[:], tmp[:], s.Ref[:refLumaLen], RefSide, ChromaSide, w[4], w[5], Views[v].Mirror)
	return chromaDistance(q.chroma, c[:], q.cellLuma, l[:])
}

// viewThumbnail returns the thumbnail of view v as a crawled copy cut like
// the view would have it (quantized like a stored thumbnail).
func (s Signature) viewThumbnail(v int) Thumbnail {
	var l [lumaLen]float32
	var c [2 * chromaLen]float32
	viewThumbInto(l[:], s.Ref, v)
	viewChromaInto(c[:], s.Ref, v)
	out := make(Thumbnail, 0, ThumbLen)
	for _, f := range append(l[:], c[:]...) {
		out = append(out, uint8(min(max(math.Round(float64(f)), 0), 255)))
	}
	return out
}
