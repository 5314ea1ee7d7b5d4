package dedup

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"

	"golang.org/x/image/draw"
)

// The near-duplicate benchmark's image transformations: each takes a
// source image and returns a copy a crawler might find.

// variant is one named transformation.
type variant struct {
	name string
	fn   func(img image.Image, rng *rand.Rand) image.Image
}

// variants are the copies of a test image the index must catch.
var variants = []variant{
	{"resize-0.5x", func(img image.Image, _ *rand.Rand) image.Image { return scale(img, 0.5) }},
	{"resize-2x", func(img image.Image, _ *rand.Rand) image.Image { return scale(img, 2) }},
	{"jpeg-q30", func(img image.Image, _ *rand.Rand) image.Image { return reencode(img, 30) }},
	{"jpeg-q50", func(img image.Image, _ *rand.Rand) image.Image { return reencode(img, 50) }},
	{"jpeg-q75", func(img image.Image, _ *rand.Rand) image.Image { return reencode(img, 75) }},
	{"jpeg-q95", func(img image.Image, _ *rand.Rand) image.Image { return reencode(img, 95) }},
	{"crop-5%", func(img image.Image, rng *rand.Rand) image.Image { return crop(img, 0.05, rng) }},
	{"crop-10%", func(img image.Image, rng *rand.Rand) image.Image { return crop(img, 0.10, rng) }},
	{"brightness+20%", func(img image.Image, _ *rand.Rand) image.Image { return levels(img, 1, 0.2) }},
	{"brightness-20%", func(img image.Image, _ *rand.Rand) image.Image { return levels(img, 1, -0.2) }},
	{"contrast+20%", func(img image.Image, _ *rand.Rand) image.Image { return levels(img, 1.2, 0) }},
	{"contrast-20%", func(img image.Image, _ *rand.Rand) image.Image { return levels(img, 0.8, 0) }},
	{"mirror", func(img image.Image, _ *rand.Rand) image.Image { return reencode(Mirror(img), 85) }},
	{"rotate-2deg", func(img image.Image, _ *rand.Rand) image.Image { return rotate(img, 2) }},
}

// resizeTo returns img scaled to w x h with Catmull-Rom filtering.
func resizeTo(img image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	return dst
}

func scale(img image.Image, f float64) image.Image {
	b := img.Bounds()
	return resizeTo(img, int(math.Round(float64(b.Dx())*f)), int(math.Round(float64(b.Dy())*f)))
}

func reencode(img image.Image, quality int) image.Image {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil
	}
	out, err := jpeg.Decode(&buf)
	if err != nil {
		return nil
	}
	return out
}

// crop removes frac of the width and of the height, split at random
// between the two sides.
func crop(img image.Image, frac float64, rng *rand.Rand) image.Image {
	b := img.Bounds()
	dx, dy := int(float64(b.Dx())*frac), int(float64(b.Dy())*frac)
	x0, y0 := rng.IntN(dx+1), rng.IntN(dy+1)
	r := image.Rect(b.Min.X+x0, b.Min.Y+y0, b.Max.X-(dx-x0), b.Max.Y-(dy-y0))
	dst := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(dst, dst.Bounds(), img, r.Min, draw.Src)
	return dst
}

// levels maps each channel v in [0,1] to (v-0.5)*contrast+0.5+brightness.
func levels(img image.Image, contrast, brightness float64) image.Image {
	b := img.Bounds()
	var lut [256]uint8
	for v := range lut {
		x := (float64(v)/255-0.5)*contrast + 0.5 + brightness
		lut[v] = uint8(math.Round(255 * min(max(x, 0), 1)))
	}
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	for i := 0; i < len(dst.Pix); i += 4 {
		dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2] = lut[dst.Pix[i]], lut[dst.Pix[i+1]], lut[dst.Pix[i+2]]
	}
	return dst
}

// rotate turns img by deg degrees about its centre (bilinear), keeping its
// size and repeating edge pixels into the corners.
func rotate(img image.Image, deg float64) image.Image {
	b := img.Bounds()
	src := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	w, h := b.Dx(), b.Dy()
	dst := image.NewRGBA(src.Bounds())
	sin, cos := math.Sincos(deg * math.Pi / 180)
	cx, cy := float64(w-1)/2, float64(h-1)/2
	at := func(x, y int) []uint8 {
		x, y = min(max(x, 0), w-1), min(max(y, 0), h-1)
		o := y*src.Stride + 4*x
		return src.Pix[o : o+4]
	}
	for y := range h {
		for x := range w {
			fx := cos*(float64(x)-cx) + sin*(float64(y)-cy) + cx
			fy := -sin*(float64(x)-cx) + cos*(float64(y)-cy) + cy
			x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
			ax, ay := fx-float64(x0), fy-float64(y0)
			p00, p10, p01, p11 := at(x0, y0), at(x0+1, y0), at(x0, y0+1), at(x0+1, y0+1)
			var c [4]uint8
			for k := range 4 {
				v := (1-ay)*((1-ax)*float64(p00[k])+ax*float64(p10[k])) + ay*((1-ax)*float64(p01[k])+ax*float64(p11[k]))
				c[k] = uint8(math.Round(v))
			}
			dst.SetRGBA(x, y, color.RGBA{c[0], c[1], c[2], c[3]})
		}
	}
	return dst
}

// tile cuts the rectangle r (in photo coordinates) out of photo and scales
// it so that its longer side is size pixels: one distinct image.
func tile(photo image.Image, r image.Rectangle, size int) *image.RGBA {
	w, h := size, size
	if r.Dx() >= r.Dy() {
		h = max(1, size*r.Dy()/r.Dx())
	} else {
		w = max(1, size*r.Dx()/r.Dy())
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), photo, r, draw.Src, nil)
	return dst
}

// tiles returns n rectangles of photo bounds b at distinct positions and
// scales: side fractions from 0.25 to 0.7 of the shorter photo side, aspect
// 4:3 or 3:4, on a jittered grid.
func tiles(b image.Rectangle, n int, rng *rand.Rand) []image.Rectangle {
	out := make([]image.Rectangle, 0, n)
	short := min(b.Dx(), b.Dy())
	for len(out) < n {
		f := 0.25 + 0.45*rng.Float64()
		s := int(f * float64(short))
		w, h := s, s*3/4
		if rng.IntN(2) == 0 {
			w, h = h, w
		}
		if w >= b.Dx() || h >= b.Dy() || w < 16 || h < 16 {
			continue
		}
		x := b.Min.X + rng.IntN(b.Dx()-w)
		y := b.Min.Y + rng.IntN(b.Dy()-h)
		out = append(out, image.Rect(x, y, x+w, y+h))
	}
	return out
}
