package testkit

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"
)

// EncodeJPEG encodes img at the given quality with the standard library's
// encoder. It reports a failure with tb.Errorf and returns nil, so it may be
// called from a test server's goroutine.
func EncodeJPEG(tb testing.TB, img image.Image, quality int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		tb.Errorf("encode %v JPEG at quality %d: %v", img.Bounds(), quality, err)
		return nil
	}
	return buf.Bytes()
}

// PhotoJPEG encodes a photo-like w×h 4:2:0 image (smooth gradients, a few
// disks and mild noise), the same for the same seed, so that decoding costs
// what a real photograph's does.
func PhotoJPEG(tb testing.TB, seed uint64, w, h, quality int) []byte {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	type disk struct{ x, y, rad, v float64 }
	var disks []disk
	for range 6 {
		disks = append(disks, disk{r.Float64() * float64(w), r.Float64() * float64(h), (0.05 + 0.2*r.Float64()) * float64(w), 60 * (r.Float64() - 0.5)})
	}
	a, b := r.Float64()*2, r.Float64()*2
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := 128 + 50*math.Sin(a*float64(x)/float64(w)*math.Pi+b*float64(y)/float64(h)*math.Pi)
			for _, d := range disks {
				if (float64(x)-d.x)*(float64(x)-d.x)+(float64(y)-d.y)*(float64(y)-d.y) < d.rad*d.rad {
					v += d.v
				}
			}
			v += r.NormFloat64() * 6
			img.Y[y*img.YStride+x] = uint8(max(0, min(255, v)))
		}
	}
	cb, cr := 100+r.Float64()*56, 100+r.Float64()*56
	for y := 0; y < (h+1)/2; y++ {
		for x := 0; x < (w+1)/2; x++ {
			img.Cb[y*img.CStride+x] = uint8(cb + 20*math.Sin(float64(x)/9))
			img.Cr[y*img.CStride+x] = uint8(cr + 20*math.Cos(float64(y)/11))
		}
	}
	return EncodeJPEG(tb, img, quality)
}
