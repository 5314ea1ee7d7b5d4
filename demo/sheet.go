package demo

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// sheetImage lays out rows of tiles, each row headed by a label.
func sheetImage(rows [][]image.Image, labels []string, tile int) *image.RGBA {
	const labelW, pad = 130, 2
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	w := labelW + cols*(tile+pad) + pad
	h := len(rows)*(tile+pad) + pad
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{250, 250, 250, 255}), image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{20, 20, 20, 255}), Face: basicfont.Face7x13}
	for i, r := range rows {
		y := pad + i*(tile+pad)
		if i < len(labels) {
			label := labels[i]
			if len(label) > 18 {
				label = label[:18]
			}
			d.Dot = fixed.P(4, y+tile/2+4)
			d.DrawString(label)
		}
		for j, t := range r {
			x := labelW + pad + j*(tile+pad)
			dst := image.Rect(x, y, x+tile, y+tile)
			draw.Draw(img, dst, scaleTo(t, tile), image.Point{}, draw.Src)
		}
	}
	return img
}

// scaleTo resizes by nearest neighbour to a square of side n.
func scaleTo(src image.Image, n int) image.Image {
	b := src.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			out.Set(x, y, src.At(b.Min.X+x*b.Dx()/n, b.Min.Y+y*b.Dy()/n))
		}
	}
	return out
}

// writePNG writes img to path.
func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create contact sheet: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode contact sheet %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close contact sheet %s: %w", path, err)
	}
	return nil
}
