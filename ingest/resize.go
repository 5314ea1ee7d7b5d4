package ingest

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"weaksup/internal/jpegturbo"
)

// plane is an 8-bit raster with ch interleaved channels.
type plane struct {
	pix    []byte
	w, h   int
	stride int
	ch     int
}

// shorterSide returns the size of an image w x h scaled so that its
// shorter side is size (unchanged when size <= 0).
func shorterSide(w, h, size int) (int, int) {
	if size <= 0 || w <= 0 || h <= 0 {
		return w, h
	}
	if w <= h {
		return size, max(1, int(math.Round(float64(h)*float64(size)/float64(w))))
	}
	return max(1, int(math.Round(float64(w)*float64(size)/float64(h)))), size
}

// resizeShorter scales img so its shorter side is size with a triangle
// (linear, widened when shrinking) filter applied per plane: the Y, Cb and
// Cr planes of a YCbCr image directly (the result is 4:2:0, which the JPEG
// encoder takes without conversion), gray images as one plane, and
// anything else flattened onto white as RGBA.
func resizeShorter(img image.Image, size int) image.Image {
	b := img.Bounds()
	dw, dh := shorterSide(b.Dx(), b.Dy(), size)
	switch m := img.(type) {
	case *image.YCbCr:
		if b.Min == (image.Point{}) {
			if dw == b.Dx() && dh == b.Dy() && m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
				return m
			}
			return resizeYCbCr(m, dw, dh)
		}
	case *image.Gray:
		if b.Min == (image.Point{}) {
			p := resizePlane(plane{m.Pix, b.Dx(), b.Dy(), m.Stride, 1}, dw, dh)
			return &image.Gray{Pix: p.pix, Stride: p.stride, Rect: image.Rect(0, 0, dw, dh)}
		}
	}
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Over)
	p := resizePlane(plane{rgba.Pix, b.Dx(), b.Dy(), rgba.Stride, 4}, dw, dh)
	return &image.RGBA{Pix: p.pix, Stride: p.stride, Rect: image.Rect(0, 0, dw, dh)}
}

// chromaSize is the size of the chroma planes of a w x h YCbCr image.
func chromaSize(w, h int, r image.YCbCrSubsampleRatio) (int, int) {
	fx, fy := jpegturbo.SubsampleFactors(r)
	return (w + fx - 1) / fx, (h + fy - 1) / fy
}

func resizeYCbCr(m *image.YCbCr, dw, dh int) *image.YCbCr {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := chromaSize(w, h, m.SubsampleRatio)
	dcw, dch := (dw+1)/2, (dh+1)/2
	y := resizePlane(plane{m.Y, w, h, m.YStride, 1}, dw, dh)
	cb := resizePlane(plane{m.Cb, cw, ch, m.CStride, 1}, dcw, dch)
	cr := resizePlane(plane{m.Cr, cw, ch, m.CStride, 1}, dcw, dch)
	return &image.YCbCr{Y: y.pix, Cb: cb.pix, Cr: cr.pix, YStride: y.stride, CStride: cb.stride,
		SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, dw, dh)}
}

// kernel holds, for each output index i, a window of taps consecutive
// input indexes starting at start[i] and their weights (fixed point,
// summing to 1<<weightBits) for a 1-D resampling. Weights that fall off
// the edges are folded onto the edge pixels.
type kernel struct {
	taps    int
	start   []int
	weights []int32
}

const weightBits = 14

func makeKernel(src, dst int) kernel {
	scale := float64(src) / float64(dst)
	support := max(scale, 1)
	taps := int(math.Ceil(2 * support)) // integers strictly within (center-support, center+support)
	n := min(taps, src)                 // window length
	k := kernel{taps: n, start: make([]int, dst), weights: make([]int32, dst*n)}
	fw := make([]float64, taps)
	for i := range dst {
		center := (float64(i)+0.5)*scale - 0.5
		left := int(math.Ceil(center - support))
		sum := 0.0
		for j := range taps {
			fw[j] = max(0, 1-math.Abs(float64(left+j)-center)/support)
			sum += fw[j]
		}
		start := min(max(left, 0), src-n)
		k.start[i] = start
		w := k.weights[i*n : (i+1)*n]
		total, best := int32(0), 0
		for j := range taps {
			at := min(max(left+j, 0), src-1) - start
			wt := int32(math.Round(fw[j] / sum * (1 << weightBits)))
			w[at] += wt
			total += wt
			if w[at] > w[best] {
				best = at
			}
		}
		w[best] += 1<<weightBits - total // exact unit sum
	}
	return k
}

// toByte turns a weighted sum back into a pixel. The weights are
// non-negative and sum to 1<<weightBits, so the result is within 0..255.
func toByte(v int32) byte { return byte((v + 1<<(weightBits-1)) >> weightBits) }

// resizePlane resamples p to dw x dh: horizontally, then vertically.
func resizePlane(p plane, dw, dh int) plane {
	if dw == p.w && dh == p.h {
		return p
	}
	tmp := p
	if dw != p.w {
		tmp = plane{pix: make([]byte, dw*p.ch*p.h), w: dw, h: p.h, stride: dw * p.ch, ch: p.ch}
		k := makeKernel(p.w, dw)
		for y := range p.h {
			src := p.pix[y*p.stride : y*p.stride+p.w*p.ch]
			dst := tmp.pix[y*tmp.stride : y*tmp.stride+dw*p.ch]
			horizontal(dst, src, k, p.ch)
		}
	}
	if dh == p.h {
		return tmp
	}
	out := plane{pix: make([]byte, dw*p.ch*dh), w: dw, h: dh, stride: dw * p.ch, ch: p.ch}
	k := makeKernel(p.h, dh)
	n := dw * p.ch
	acc := make([]int32, n)
	for y := range dh {
		dst := out.pix[y*out.stride : y*out.stride+n]
		rows := k.start[y] * tmp.stride
		if k.taps == 3 { // the common case, in one pass
			r0 := tmp.pix[rows : rows+n]
			r1 := tmp.pix[rows+tmp.stride : rows+tmp.stride+n]
			r2 := tmp.pix[rows+2*tmp.stride : rows+2*tmp.stride+n]
			w := k.weights[y*3 : y*3+3 : y*3+3]
			for x := range dst {
				dst[x] = toByte(w[0]*int32(r0[x]) + w[1]*int32(r1[x]) + w[2]*int32(r2[x]))
			}
			continue
		}
		clear(acc)
		for j := range k.taps {
			wt := k.weights[y*k.taps+j]
			if wt == 0 {
				continue
			}
			r := k.start[y] + j
			row := tmp.pix[r*tmp.stride : r*tmp.stride+n]
			for x, v := range row {
				acc[x] += wt * int32(v)
			}
		}
		for x, v := range acc {
			dst[x] = toByte(v)
		}
	}
	return out
}

func horizontal(dst, src []byte, k kernel, ch int) {
	taps := k.taps
	if ch == 1 && taps == 3 { // the common case: shrinking by up to 1.5x
		for x := range dst {
			win := src[k.start[x] : k.start[x]+3 : k.start[x]+3]
			w := k.weights[x*3 : x*3+3 : x*3+3]
			dst[x] = toByte(w[0]*int32(win[0]) + w[1]*int32(win[1]) + w[2]*int32(win[2]))
		}
		return
	}
	if ch == 1 {
		for x := range dst {
			win := src[k.start[x] : k.start[x]+taps]
			wts := k.weights[x*taps : x*taps+taps]
			var sum int32
			for j, w := range wts {
				sum += w * int32(win[j])
			}
			dst[x] = toByte(sum)
		}
		return
	}
	w := len(dst) / ch
	for x := range w {
		win := src[k.start[x]*ch : (k.start[x]+taps)*ch]
		wts := k.weights[x*taps : x*taps+taps]
		for c := range ch {
			var sum int32
			for j, w := range wts {
				sum += w * int32(win[j*ch+c])
			}
			dst[x*ch+c] = toByte(sum)
		}
	}
}
