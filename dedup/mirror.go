package dedup

import (
	"image"
	"image/draw"
)

// Mirror returns a copy of img flipped left to right. Test images are
// indexed together with their mirror, because a horizontal flip is the most
// common edit a copy undergoes and it changes the perceptual hash.
func Mirror(img image.Image) *image.RGBA {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	w := b.Dx()
	for y := range b.Dy() {
		row := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		for l, r := 0, w-1; l < r; l, r = l+1, r-1 {
			lp, rp := row[4*l:4*l+4], row[4*r:4*r+4]
			for k := range 4 {
				lp[k], rp[k] = rp[k], lp[k]
			}
		}
	}
	return dst
}
