package dedup

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

func TestThumbnailUniformAndHalves(t *testing.T) {
	flat := image.NewUniform(color.Gray{77})
	img := image.NewGray(image.Rect(3, 4, 103, 61))
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		for x := img.Rect.Min.X; x < img.Rect.Max.X; x++ {
			img.Set(x, y, flat.C)
		}
	}
	th := MakeThumbnail(img)
	if len(th) != ThumbLen {
		t.Fatalf("thumbnail of %d bytes, want %d", len(th), ThumbLen)
	}
	for i, v := range th {
		if want := uint8(77); i >= lumaLen {
			want = 128 // grey has neutral chroma
			if v != want {
				t.Fatalf("uniform image: chroma %d = %d, want %d", i-lumaLen, v, want)
			}
		} else if v != want {
			t.Fatalf("uniform image: thumbnail pixel %d = %d, want %d", i, v, want)
		}
	}
	// Left half black, right half white: the halves stay exact.
	half := image.NewGray(image.Rect(0, 0, 4*ThumbSide, 2*ThumbSide))
	for y := range half.Rect.Dy() {
		for x := 2 * ThumbSide; x < 4*ThumbSide; x++ {
			half.Pix[y*half.Stride+x] = 255
		}
	}
	th = MakeThumbnail(half)
	for y := range ThumbSide {
		for x := range ThumbSide {
			want := uint8(0)
			if x >= ThumbSide/2 {
				want = 255
			}
			if th[y*ThumbSide+x] != want {
				t.Fatalf("halves: pixel (%d,%d) = %d, want %d", x, y, th[y*ThumbSide+x], want)
			}
		}
	}
	if MakeThumbnail(image.NewGray(image.Rect(0, 0, 0, 5))) != nil {
		t.Errorf("thumbnail of an empty image is not nil")
	}
}

// TestThumbnailColorModels checks that every image type the decoders
// produce gives the same thumbnail, within rounding.
func TestThumbnailColorModels(t *testing.T) {
	photos := testPhotos(t)
	img := photos["Garden.jpg"]
	want := MakeThumbnail(img)
	for name, m := range inColorModels(img) {
		if name == "subimage" || name == "paletted" {
			continue
		}
		got := MakeThumbnail(m)
		n := len(want)
		if name == "gray" {
			n = lumaLen // a grey copy has no chroma
		}
		for i := range want[:n] {
			if d := int(got[i]) - int(want[i]); d < -2 || d > 2 {
				t.Fatalf("%s: pixel %d = %d, want %d", name, i, got[i], want[i])
			}
		}
	}
	// A sub-image is the thumbnail of its own pixels.
	sub := inColorModels(img)["subimage"]
	if got, want := MakeThumbnail(sub), MakeThumbnail(toRGBACopy(sub)); string(got) != string(want) {
		t.Errorf("sub-image thumbnail differs from the thumbnail of a copy")
	}
}

func toRGBACopy(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

// TestThumbnailScale checks that the thumbnail does not depend on the
// image's size.
func TestThumbnailScale(t *testing.T) {
	img := testPhotos(t)["Wood.jpg"]
	want := MakeThumbnail(img)
	for _, f := range []float64{0.5, 2} {
		got := MakeThumbnail(scale(img, f))
		var sum float64
		for i := range want {
			sum += math.Abs(float64(got[i]) - float64(want[i]))
		}
		if mean := sum / float64(len(want)); mean > 2 {
			t.Errorf("scaled %gx: mean difference %.2f grey levels, want <= 2", f, mean)
		}
	}
}

func TestAreaWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		size := 1 + rng.IntN(300)
		n := 1 + rng.IntN(40)
		a := rng.Float64() * float64(size) / 2
		b := a + 0.5 + rng.Float64()*float64(size)
		w := areaWeights(a, b, size, n)
		for j, taps := range w.taps {
			sum := 0.0
			for _, tp := range taps {
				if tp.i < 0 || tp.i >= size || tp.w <= 0 {
					t.Fatalf("tap %+v out of line of %d", tp, size)
				}
				sum += float64(tp.w)
			}
			if math.Abs(sum-1) > 1e-5 {
				t.Fatalf("size %d, [%g,%g) to %d: cell %d weights sum to %g", size, a, b, n, j, sum)
			}
		}
	}
}
