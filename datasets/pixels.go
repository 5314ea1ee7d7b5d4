package datasets

import (
	"image"
	"image/color"
)

// PlanarRGB is an opaque RGB image stored plane by plane: the W×H red
// values row by row, then the green, then the blue — the layout of a
// CIFAR record. Split.Read of the CIFAR layouts returns one over the
// record's own bytes, so it must not be modified.
type PlanarRGB struct {
	Pix  []uint8 // 3·W·H bytes
	W, H int
}

var _ image.Image = (*PlanarRGB)(nil)

// Plane returns the W·H bytes of channel c (0 red, 1 green, 2 blue).
func (p *PlanarRGB) Plane(c int) []uint8 { return p.Pix[c*p.W*p.H : (c+1)*p.W*p.H] }

func (p *PlanarRGB) ColorModel() color.Model { return color.RGBAModel }
func (p *PlanarRGB) Bounds() image.Rectangle { return image.Rect(0, 0, p.W, p.H) }

func (p *PlanarRGB) At(x, y int) color.Color {
	if x < 0 || y < 0 || x >= p.W || y >= p.H {
		return color.RGBA{}
	}
	i, n := y*p.W+x, p.W*p.H
	return color.RGBA{p.Pix[i], p.Pix[n+i], p.Pix[2*n+i], 255}
}
