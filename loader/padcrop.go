package loader

import (
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"

	"weaksup/datasets"
)

// applyPadded is the CropPadded transform: a window of Size×Size source
// pixels, shifted at random within Pad pixels of zero padding and flipped
// at random in training, centered in evaluation; no resampling.
func (t *Transform) applyPadded(dst []float32, ex Example, r *rand.Rand, sc *scratch) error {
	img := ex.Pixels
	if img == nil {
		w, _, err := sc.dec.size(ex.Image)
		if err != nil {
			return err
		}
		if img, err = sc.dec.decode(ex.Image, float64(w), w); err != nil {
			return err
		}
	}
	b := img.Bounds()
	w, h, S, P := b.Dx(), b.Dy(), t.Size, max(t.Pad, 0)
	if int64(w)*int64(h) > maxPixels {
		return fmt.Errorf("decode image: %dx%d is over the %d-megapixel limit", w, h, maxPixels>>20)
	}
	if w+2*P < S || h+2*P < S || w <= 0 || h <= 0 {
		return fmt.Errorf("crop image: %dx%d with %d pixels of padding is smaller than the %dx%d crop", w, h, P, S, S)
	}
	planes := t.planesOf(img, sc)
	// Source pixel (x0+x, y0+y) lands at output (x, y); outside the image
	// is padding (zero).
	var x0, y0 int
	flip := false
	if t.Train {
		y0 = r.IntN(h+2*P-S+1) - P
		x0 = r.IntN(w+2*P-S+1) - P
		flip = r.IntN(2) == 1
	} else {
		x0, y0 = (w-S)/2, (h-S)/2
	}
	n := S * S
	for c := range 3 {
		scale := 1 / (255 * t.Std[c])
		bias := -t.Mean[c] / t.Std[c]
		out := dst[c*n : (c+1)*n]
		plane := planes[c]
		for y := range S {
			row := out[y*S : (y+1)*S]
			sy := y0 + y
			if sy < 0 || sy >= h {
				for x := range row {
					row[x] = bias
				}
				continue
			}
			src := plane[sy*w : (sy+1)*w]
			for x := range S {
				sx := x0 + x
				v := bias
				if sx >= 0 && sx < w {
					v = float32(src[sx])*scale + bias
				}
				if flip {
					row[S-1-x] = v
				} else {
					row[x] = v
				}
			}
		}
	}
	return nil
}

// planesOf returns the R, G and B planes of img (w×h, row-major): the
// image's own for a *datasets.PlanarRGB, else copied into sc.rgb.
func (t *Transform) planesOf(img image.Image, sc *scratch) [3][]uint8 {
	if p, ok := img.(*datasets.PlanarRGB); ok {
		return [3][]uint8{p.Plane(0), p.Plane(1), p.Plane(2)}
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	rgb := sc.rgb
	for c := range rgb {
		if cap(rgb[c]) < w*h {
			rgb[c] = make([]uint8, w*h)
		}
		rgb[c] = rgb[c][:w*h]
	}
	if w*h <= keepRGB {
		sc.rgb = rgb
	}
	if m, ok := img.(*image.NRGBA); ok {
		splitRGB(rgb, m.Pix, m.Stride, w, h, m.PixOffset(b.Min.X, b.Min.Y))
	} else if m, ok := img.(*image.RGBA); ok && m.Opaque() { // premultiplied equals straight color
		splitRGB(rgb, m.Pix, m.Stride, w, h, m.PixOffset(b.Min.X, b.Min.Y))
	} else {
		for y := range h {
			for x := range w {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				rgb[0][y*w+x], rgb[1][y*w+x], rgb[2][y*w+x] = c.R, c.G, c.B
			}
		}
	}
	return rgb
}
