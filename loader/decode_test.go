package loader

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image"
	"strings"
	"testing"

	"weaksup/internal/jpegturbo"
	"weaksup/internal/testkit"
)

// decodeSummary runs d.size and d.decode as a worker does and describes
// what they return, pixels by their SHA-256.
func decodeSummary(t *testing.T, d *decoder, data []byte, side float64, want int) string {
	t.Helper()
	w, h, err := d.size(data)
	if err != nil {
		return fmt.Sprintf("size error %v", err)
	}
	img, err := d.decode(data, side, want)
	if err != nil {
		return fmt.Sprintf("%dx%d, decode error %v", w, h, err)
	}
	s := sha256.New()
	var layout string
	switch m := img.(type) {
	case *image.YCbCr:
		layout = fmt.Sprintf("YCbCr %v strides %d,%d", m.SubsampleRatio, m.YStride, m.CStride)
		s.Write(m.Y)
		s.Write(m.Cb)
		s.Write(m.Cr)
	case *image.Gray:
		layout = fmt.Sprintf("Gray stride %d", m.Stride)
		s.Write(m.Pix)
	default:
		t.Fatalf("decoded %T, which the test does not compare", img)
	}
	return fmt.Sprintf("%dx%d, decoded %v %s %x", w, h, img.Bounds(), layout, s.Sum(nil)[:8])
}

// TestDecoderIndependentOfHistory: a worker's decoder returns for a JPEG
// exactly what a new decoder does, whatever it decoded before. The case a
// loader meets and goes on after: a JPEG libjpeg-turbo refuses in its
// header but image/jpeg decodes (over 65,500 pixels wide). With a
// libjpeg-turbo decompressor kept in the decoder, every later JPEG of that
// worker came from image/jpeg at full size, so the pixels of a batch hung
// on which worker had taken which image. A JPEG cut inside its SOS segment
// (an error for the loader) did the same.
func TestDecoderIndependentOfHistory(t *testing.T) {
	var photos [][]byte
	for i, size := range []image.Point{{256, 192}, {120, 90}, {61, 45}} {
		photos = append(photos, testkit.PhotoJPEG(t, uint64(i+1), size.X, size.Y, 85))
	}
	wide := testkit.EncodeJPEG(t, image.NewGray(image.Rect(0, 0, 65501, 2)), 75)
	sos := bytes.Index(photos[0], []byte{0xff, 0xda})
	if sos < 0 {
		t.Fatal("test JPEG: no SOS marker")
	}
	cut := photos[0][:sos+7]
	type call struct {
		data []byte
		side float64
		want int
	}
	var calls []call
	for _, p := range photos {
		for _, c := range []struct {
			side float64
			want int
		}{{256, 32}, {90, 64}, {45, 224}} {
			calls = append(calls, call{p, c.side, c.want})
		}
	}
	want := make([]string, len(calls))
	for i, c := range calls {
		var d decoder
		want[i] = decodeSummary(t, &d, c.data, c.side, c.want)
		d.close()
	}
	befores := []struct {
		name string
		data []byte
	}{{"a JPEG 65501 pixels wide", wide}, {"a JPEG cut inside its SOS segment", cut}}
	beforeWant := make([]string, len(befores))
	for i, b := range befores {
		var d decoder
		beforeWant[i] = decodeSummary(t, &d, b.data, 2, 2)
		d.close()
	}
	if w := "65501x2, decoded (0,0)-(65501,2) Gray"; !strings.HasPrefix(beforeWant[0], w) {
		t.Fatalf("the 65501-pixel-wide JPEG: %s, want it decoded at its size (the test needs it to)", beforeWant[0])
	}

	for bi, before := range befores {
		var d decoder
		for round := range 2 {
			if got := decodeSummary(t, &d, before.data, 2, 2); got != beforeWant[bi] {
				t.Errorf("%s (%s), round %d: %s, a new decoder gives %s", before.name, jpegturbo.Codec, round, got, beforeWant[bi])
			}
			for i, c := range calls {
				if got := decodeSummary(t, &d, c.data, c.side, c.want); got != want[i] {
					t.Errorf("call %d (%s), round %d after %s: %s, a new decoder gives %s", i, jpegturbo.Codec, round, before.name, got, want[i])
				}
			}
		}
		d.close()
	}
}
