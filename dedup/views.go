package dedup

import (
	"image"
	"image/draw"
	"math"

	"weaksup/thumbnail"
)

// View is one way a copy may have been cut from a test image: the share
// of each side it keeps, where the kept rectangle sits, and whether it is
// flipped left to right. The matcher hashes every view of every test image
// (the candidate search) and cuts each view's thumbnail from the image's
// reference thumbnail (the verification).
//
// A crop of 10% whose margins are split at random between the sides lies
// within 2.5% of a side from one of the five 90% views (centre and
// corners); a 5% crop lies as near to the 95% ones. Within that offset
// the perceptual hash of the copy is near the view's hash, and its
// thumbnail correlates with the view's thumbnail.
type View struct {
	Name   string
	Keep   float64 // share of the width and of the height kept, (0, 1]
	AX, AY float64 // where the kept rectangle sits: 0 left or top, 0.5 centre, 1 right or bottom
	Mirror bool    // flipped left to right after cropping
}

// Views are the views of every test image, by index: 0 is the image
// itself and 1 its mirror, as the plain perceptual-hash index had them.
var Views = []View{
	{Name: "image", Keep: 1, AX: .5, AY: .5},
	{Name: "mirror", Keep: 1, AX: .5, AY: .5, Mirror: true},
	{Name: "crop90", Keep: .9, AX: .5, AY: .5},
	{Name: "crop90-tl", Keep: .9, AX: 0, AY: 0},
	{Name: "crop90-tr", Keep: .9, AX: 1, AY: 0},
	{Name: "crop90-bl", Keep: .9, AX: 0, AY: 1},
	{Name: "crop90-br", Keep: .9, AX: 1, AY: 1},
	{Name: "crop95", Keep: .95, AX: .5, AY: .5},
	{Name: "crop95-tl", Keep: .95, AX: 0, AY: 0},
	{Name: "crop95-tr", Keep: .95, AX: 1, AY: 0},
	{Name: "crop95-bl", Keep: .95, AX: 0, AY: 1},
	{Name: "crop95-br", Keep: .95, AX: 1, AY: 1},
}

// region is the view's rectangle in an image of w x h pixels, fractional.
func (v View) region(w, h float64) thumbnail.Rect {
	kw, kh := w*v.Keep, h*v.Keep
	x0, y0 := (w-kw)*v.AX, (h-kh)*v.AY
	return thumbnail.Rect{X0: x0, Y0: y0, X1: x0 + kw, Y1: y0 + kh}
}

// Rect is the view's rectangle within bounds b, in whole pixels.
func (v View) Rect(b image.Rectangle) image.Rectangle {
	r := v.region(float64(b.Dx()), float64(b.Dy()))
	out := image.Rect(b.Min.X+int(math.Round(r.X0)), b.Min.Y+int(math.Round(r.Y0)),
		b.Min.X+int(math.Round(r.X1)), b.Min.Y+int(math.Round(r.Y1)))
	if out.Empty() {
		return b
	}
	return out
}

// Apply returns the view of img: its rectangle, copied, mirrored when the
// view is.
func (v View) Apply(img image.Image) image.Image {
	r := v.Rect(img.Bounds())
	if v.Mirror {
		return Mirror(subImage(img, r))
	}
	if r == img.Bounds() {
		return img
	}
	return subImage(img, r)
}

// subImage returns the pixels of img within r as a new image with origin 0.
func subImage(img image.Image, r image.Rectangle) image.Image {
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(r)
	}
	dst := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(dst, dst.Bounds(), img, r.Min, draw.Src)
	return dst
}
