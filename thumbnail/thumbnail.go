package thumbnail

import (
	"image"
	"image/color"
	"math"
)

// Sizes of a thumbnail.
const (
	Side       = 24 // side of the luma part, pixels
	ChromaSide = 8  // side of each chroma part, pixels
	LumaLen    = Side * Side
	ChromaLen  = ChromaSide * ChromaSide
	// Len is the length of a thumbnail in bytes: the luma, then Cb and Cr.
	Len = LumaLen + 2*ChromaLen
)

// Make returns the thumbnail of img, Len bytes, or nil for an empty image.
func Make(img image.Image) []byte {
	return Sized(img, Side, ChromaSide)
}

// Sized returns a thumbnail of img at other sizes: n x n luma values,
// then cn x cn Cb and cn x cn Cr values, or nil for an empty image.
func Sized(img image.Image, n, cn int) []byte {
	y, cb, cr := planesOf(img)
	if y.w == 0 || y.h == 0 {
		return nil
	}
	full := Rect{0, 0, float64(y.w), float64(y.h)}
	out := make([]byte, 0, n*n+2*cn*cn)
	tmp := make([]float32, y.h*max(n, cn))
	for _, p := range []struct {
		plane
		n int
	}{{y, n}, {cb, cn}, {cr, cn}} {
		f := make([]float32, p.n*p.n)
		NewCut(full, p.w, p.h, p.n, false).Into(f, tmp, p.pix)
		for _, v := range f {
			out = append(out, uint8(min(max(math.Round(float64(v)), 0), 255)))
		}
	}
	return out
}

// plane is one 8-bit plane of an image.
type plane struct {
	pix  []byte
	w, h int
}

// planesOf converts img to its Y', Cb and Cr planes at full size, taking
// the planes of a Y'CbCr image as they are (chroma repeated over its
// subsampling).
func planesOf(img image.Image) (y, cb, cr plane) {
	if img == nil {
		return
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return
	}
	y, cb, cr = plane{make([]byte, w*h), w, h}, plane{make([]byte, w*h), w, h}, plane{make([]byte, w*h), w, h}
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
