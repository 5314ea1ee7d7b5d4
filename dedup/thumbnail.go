package dedup

import (
	"image"
	"image/color"
	"math"
)

// ThumbSide is the side of a Thumbnail in pixels.
const ThumbSide = 24

// ThumbLen is the length of a Thumbnail in bytes.
const ThumbLen = ThumbSide * ThumbSide

// Thumbnail is a small grey copy of a whole image that the verification
// compares: ThumbSide x ThumbSide luma values (Rec. 601 weights, the Y of
// JPEG), each the area average of its cell of the image, rows top to
// bottom. The image is stretched to a square, as the perceptual hash
// stretches it, so a crop that keeps the aspect ratio keeps the
// thumbnail's geometry.
//
// Ingest stores one with every record (store.Record.Thumbnail); the test
// images keep one at RefSide and cut each view's thumbnail from it.
type Thumbnail []byte

// MakeThumbnail returns the thumbnail of img, or nil for an empty image.
func MakeThumbnail(img image.Image) Thumbnail {
	return thumbnailOf(img, ThumbSide)
}

// thumbnailOf returns the n x n thumbnail of img.
func thumbnailOf(img image.Image, n int) Thumbnail {
	p := lumaOf(img)
	if p.w == 0 || p.h == 0 {
		return nil
	}
	f := p.area(rect{0, 0, float64(p.w), float64(p.h)}, n)
	out := make(Thumbnail, len(f))
	for i, v := range f {
		out[i] = uint8(min(max(math.Round(float64(v)), 0), 255))
	}
	return out
}

// luma is a grey plane.
type luma struct {
	pix  []byte
	w, h int
}

// lumaOf converts img to its luma plane, taking the Y plane of a Y'CbCr
// image and the pixels of a grey one as they are.
func lumaOf(img image.Image) luma {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return luma{}
	}
	out := luma{pix: make([]byte, w*h), w: w, h: h}
	switch m := img.(type) {
	case *image.YCbCr:
		for y := range h {
			o := m.YOffset(b.Min.X, b.Min.Y+y)
			copy(out.pix[y*w:(y+1)*w], m.Y[o:o+w])
		}
	case *image.Gray:
		for y := range h {
			o := m.PixOffset(b.Min.X, b.Min.Y+y)
			copy(out.pix[y*w:(y+1)*w], m.Pix[o:o+w])
		}
	case *image.RGBA:
		for y := range h {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				out.pix[y*w+x] = grey(uint32(row[4*x]), uint32(row[4*x+1]), uint32(row[4*x+2]))
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				out.pix[y*w+x] = grey(uint32(row[4*x]), uint32(row[4*x+1]), uint32(row[4*x+2]))
			}
		}
	default:
		for y := range h {
			for x := range w {
				g := color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray)
				out.pix[y*w+x] = g.Y
			}
		}
	}
	return out
}

// grey is color.GrayModel's luma of 8-bit r, g, b.
func grey(r, g, b uint32) uint8 {
	return uint8((19595*r*257 + 38470*g*257 + 7471*b*257 + 1<<15) >> 24)
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
