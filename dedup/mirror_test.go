package dedup

import (
	"image"
	"image/color"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/phash"
)

func TestMirror(t *testing.T) {
	src := image.NewNRGBA(image.Rect(10, 20, 13, 22)) // odd width, offset origin
	for y := 20; y < 22; y++ {
		for x := 10; x < 13; x++ {
			src.Set(x, y, color.NRGBA{uint8(x), uint8(y), uint8(x * y), 255})
		}
	}
	got := Mirror(src)
	if got.Bounds() != image.Rect(0, 0, 3, 2) {
		t.Fatalf("Mirror bounds = %v, want (0,0)-(3,2)", got.Bounds())
	}
	for y := range 2 {
		for x := range 3 {
			want := color.RGBAModel.Convert(src.At(12-x, 20+y))
			if g := got.At(x, y); g != want {
				t.Errorf("Mirror At(%d,%d) = %v, want %v", x, y, g, want)
			}
		}
	}
}

// TestMirrorOfMirror checks that flipping twice gives the image back and
// that a photograph's mirror hashes differently from it.
func TestMirrorOfMirror(t *testing.T) {
	for name, photo := range testkit.Photos(t, photoDir) {
		m := Mirror(photo)
		back := Mirror(m)
		h0, _ := phash.Hash(Mirror(Mirror(back)))
		h1, _ := phash.Hash(back)
		if h0 != h1 {
			t.Errorf("%s: hash of mirror twice changed: %016x != %016x", name, h0, h1)
		}
		hm, _ := phash.Hash(m)
		if d := phash.Distance(h1, hm); d < 4 {
			t.Errorf("%s: mirror is only %d bits from the photo, want a distinct hash", name, d)
		}
	}
}
