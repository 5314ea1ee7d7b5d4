package testkit

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
)

func TestChiSquare(t *testing.T) {
	if got := ChiSquare([]int{10, 20}, []float64{10, 20}); got != 0 {
		t.Errorf("exact counts: %v, want 0", got)
	}
	// (12-10)²/10 + (18-20)²/20 = 0.4 + 0.2
	if got := ChiSquare([]int{12, 18}, []float64{10, 20}); got < 0.6-1e-12 || got > 0.6+1e-12 {
		t.Errorf("got %v, want 0.6", got)
	}
}

func TestPhotoJPEGDecodesAtItsSizeAndRepeats(t *testing.T) {
	a, b := PhotoJPEG(t, 3, 33, 20, 90), PhotoJPEG(t, 3, 33, 20, 90)
	if !bytes.Equal(a, b) {
		t.Error("same seed, different bytes")
	}
	img, err := jpeg.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, 33, 20) {
		t.Errorf("bounds %v", img.Bounds())
	}
	if bytes.Equal(a, PhotoJPEG(t, 4, 33, 20, 90)) {
		t.Error("another seed, same bytes")
	}
}
