package dedup

import (
	"image"
	"image/color"
	"math"
)

// Thumbnail sizes.
const (
	ThumbSide  = 24 // side of the luma part, pixels
	ChromaSide = 8  // side of each chroma part, pixels
	// ThumbLen is the length of a Thumbnail in bytes.
	ThumbLen  = lumaLen + 2*chromaLen
	lumaLen   = ThumbSide * ThumbSide
	chromaLen = ChromaSide * ChromaSide
)

// Thumbnail is a small copy of a whole image that the verification
// compares: ThumbSide x ThumbSide luma values, then ChromaSide x ChromaSide
// Cb and Cr values (JPEG's Y'CbCr), each the area average of its cell of
// the image, rows top to bottom. The image is stretched to a square, as
// the perceptual hash stretches it, so a crop that keeps the aspect ratio
// keeps the thumbnail's geometry.
//
// Ingest stores one with every record (store.Record.Thumbnail); the test
// images keep a larger one (RefSide, RefChromaSide) and cut each view's
// thumbnail from it.
type Thumbnail []byte

// MakeThumbnail returns the thumbnail of img, or nil for an empty image.
func MakeThumbnail(img image.Image) Thumbnail {
	return thumbnailOf(img, ThumbSide, ChromaSide)
}

// thumbnailOf returns the n x n luma and cn x cn chroma thumbnail of img.
func thumbnailOf(img image.Image, n, cn int) Thumbnail {
	y, cb, cr := planesOf(img)
	if y.w == 0 || y.h == 0 {
		return nil
	}
	full := rect{0, 0, float64(y.w), float64(y.h)}
	out := make(Thumbnail, 0, n*n+2*cn*cn)
	for _, f := range [][]float32{y.area(full, n), cb.area(full, cn), cr.area(full, cn)} {
		for _, v := range f {
			out = append(out, uint8(min(max(math.Round(float64(v)), 0), 255)))
		}
	}
	return out
}

// luma is one 8-bit plane of an image.
type luma struct {
	pix  []byte
	w, h int
}

// planesOf converts img to its Y', Cb and Cr planes at full size, taking
// the planes of a Y'CbCr image as they are (chroma repeated over its
// subsampling).
func planesOf(img image.Image) (y, cb, cr luma) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return
	}
	y, cb, cr = luma{make([]byte, w*h), w, h}, luma{make([]byte, w*h), w, h}, luma{make([]byte, w*h), w, h}
	rgb := func(o int, r, g, bl uint8) {
		y.pix[o], cb.pix[o], cr.pix[o] = color.RGBToYCbCr(r, g, bl)
	}
	switch m := img.(type) {
	case *image.YCbCr:
		for py := range h {
			o := m.YOffset(b.Min.X, b.Min.Y+py)
			copy(y.pix[py*w:(py+1)*w], m.Y[o:o+w])
			for px := range w {
				c := m.COffset(b.Min.X+px, b.Min.Y+py)
				cb.pix[py*w+px], cr.pix[py*w+px] = m.Cb[c], m.Cr[c]
			}
		}
	case *image.Gray:
		for py := range h {
			o := m.PixOffset(b.Min.X, b.Min.Y+py)
			copy(y.pix[py*w:(py+1)*w], m.Pix[o:o+w])
		}
		for i := range cb.pix {
			cb.pix[i], cr.pix[i] = 128, 128
		}
	case *image.RGBA:
		for py := range h {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+py):]
			for px := range w {
				rgb(py*w+px, row[4*px], row[4*px+1], row[4*px+2])
			}
		}
	case *image.NRGBA:
		for py := range h {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+py):]
			for px := range w {
				rgb(py*w+px, row[4*px], row[4*px+1], row[4*px+2])
			}
		}
	default:
		for py := range h {
			for px := range w {
				r, g, bl, _ := img.At(b.Min.X+px, b.Min.Y+py).RGBA()
				rgb(py*w+px, uint8(r>>8), uint8(g>>8), uint8(bl>>8))
			}
		}
	}
	return y, cb, cr
}

// rect is a rectangle in pixel coordinates of a plane, fractional.
type rect struct{ x0, y0, x1, y1 float64 }

// area resamples the region r of the plane to n x n cells, each the
// area-weighted mean of the pixels it covers (pixel i spans [i, i+1)).
func (p luma) area(r rect, n int) []float32 {
	wx := areaWeights(r.x0, r.x1, p.w, n)
	wy := areaWeights(r.y0, r.y1, p.h, n)
	// Rows first: for each source row in the region, n column sums.
	tmp := make([]float32, p.h*n)
	for y := wy.lo; y < wy.hi; y++ {
		row := p.pix[y*p.w : (y+1)*p.w]
		for j := range n {
			var s float32
			for _, t := range wx.taps[j] {
				s += t.w * float32(row[t.i])
			}
			tmp[y*n+j] = s
		}
	}
	out := make([]float32, n*n)
	for i := range n {
		for _, t := range wy.taps[i] {
			src := tmp[t.i*n : (t.i+1)*n]
			dst := out[i*n : (i+1)*n]
			for j := range n {
				dst[j] += t.w * src[j]
			}
		}
	}
	return out
}

type tap struct {
	i int
	w float32
}

type weights struct {
	taps   [][]tap // per output cell: source pixels and weights summing to 1
	lo, hi int     // source pixels used
}

// areaWeights maps [a, b) of a line of size pixels onto n cells. Cells
// outside the line repeat its edge pixel.
func areaWeights(a, b float64, size, n int) weights {
	w := weights{taps: make([][]tap, n), lo: size, hi: 0}
	step := (b - a) / float64(n)
	for j := range n {
		c0, c1 := a+float64(j)*step, a+float64(j+1)*step
		for i := int(math.Floor(c0)); float64(i) < c1; i++ {
			cover := math.Min(c1, float64(i+1)) - math.Max(c0, float64(i))
			if cover <= 1e-9 {
				continue
			}
			src := min(max(i, 0), size-1)
			w.taps[j] = append(w.taps[j], tap{src, float32(cover / step)})
			w.lo, w.hi = min(w.lo, src), max(w.hi, src+1)
		}
	}
	return w
}
