package ingest

import "image"

// orient applies an EXIF orientation (2..8) to an image produced by
// resizeShorter; orientation 1 or an unknown type returns img unchanged.
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	switch m := img.(type) {
	case *image.YCbCr:
		if m.SubsampleRatio != image.YCbCrSubsampleRatio420 || m.Rect.Min != (image.Point{}) {
			return img
		}
		w, h := m.Rect.Dx(), m.Rect.Dy()
		y := orientPlane(plane{m.Y, w, h, m.YStride, 1}, o)
		cb := orientPlane(plane{m.Cb, (w + 1) / 2, (h + 1) / 2, m.CStride, 1}, o)
		cr := orientPlane(plane{m.Cr, (w + 1) / 2, (h + 1) / 2, m.CStride, 1}, o)
		return &image.YCbCr{Y: y.pix, Cb: cb.pix, Cr: cr.pix, YStride: y.stride, CStride: cb.stride,
			SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, y.w, y.h)}
	case *image.Gray:
		p := orientPlane(plane{m.Pix, m.Rect.Dx(), m.Rect.Dy(), m.Stride, 1}, o)
		return &image.Gray{Pix: p.pix, Stride: p.stride, Rect: image.Rect(0, 0, p.w, p.h)}
	case *image.RGBA:
		p := orientPlane(plane{m.Pix, m.Rect.Dx(), m.Rect.Dy(), m.Stride, 4}, o)
		return &image.RGBA{Pix: p.pix, Stride: p.stride, Rect: image.Rect(0, 0, p.w, p.h)}
	}
	return img
}

// orientPlane returns p transformed by EXIF orientation o: 2 mirror, 3
// rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8
// rotate 90 counter-clockwise.
func orientPlane(p plane, o int) plane {
	w, h := p.w, p.h
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	out := plane{pix: make([]byte, dw*dh*p.ch), w: dw, h: dh, stride: dw * p.ch, ch: p.ch}
	for y := range dh {
		for x := range dw {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			copy(out.pix[y*out.stride+x*p.ch:y*out.stride+(x+1)*p.ch], p.pix[sy*p.stride+sx*p.ch:sy*p.stride+(sx+1)*p.ch])
		}
	}
	return out
}
