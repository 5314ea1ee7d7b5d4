package thumbnail

import (
	"image"
	"image/draw"
	"math"
	"math/rand/v2"
	"testing"

	"weaksup/internal/testkit"
)

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

// TestCutOfLargerThumbnail is how dedup uses a Cut: the thumbnail of a
// crop, mirrored or not, cut from a larger thumbnail of the whole image,
// is close to the thumbnail of the cropped image itself.
func TestCutOfLargerThumbnail(t *testing.T) {
	const ref = 40
	for name, img := range testkit.Photos(t, photoDir) {
		big := Sized(img, ref, 16)
		b := img.Bounds()
		for _, mirror := range []bool{false, true} {
			// The bottom-right 90%.
			crop := image.Rect(b.Min.X+b.Dx()/10, b.Min.Y+b.Dy()/10, b.Max.X, b.Max.Y)
			cp := image.NewRGBA(image.Rect(0, 0, crop.Dx(), crop.Dy()))
			draw.Draw(cp, cp.Bounds(), img, crop.Min, draw.Src)
			if mirror {
				for y := range cp.Rect.Dy() {
					row := cp.Pix[y*cp.Stride : y*cp.Stride+4*cp.Rect.Dx()]
					for l, r := 0, cp.Rect.Dx()-1; l < r; l, r = l+1, r-1 {
						for k := range 4 {
							row[4*l+k], row[4*r+k] = row[4*r+k], row[4*l+k]
						}
					}
				}
			}
			want := Make(cp)
			c := NewCut(Rect{ref * .1, ref * .1, ref, ref}, ref, ref, Side, mirror)
			got := make([]float32, LumaLen)
			c.Into(got, make([]float32, c.y.hi*c.n), big[:ref*ref])
			var sum float64
			for i := range got {
				sum += math.Abs(float64(got[i]) - float64(want[i]))
			}
			// Resampling twice blurs a little: a few levels on average.
			if mean := sum / LumaLen; mean > 6 {
				t.Errorf("%s (mirror %v): cut differs from the crop's thumbnail by %.2f levels on average, want <= 6", name, mirror, mean)
			}
		}
	}
	// A 3x2 plane to 2x2, by hand: each cell takes 2/3 of its near pixel
	// and 1/3 of the middle one; rows stay as they are.
	plane := []byte{1, 2, 3, 4, 5, 6}
	c := NewCut(Rect{0, 0, 3, 2}, 3, 2, 2, false)
	got := make([]float32, 4)
	c.Into(got, make([]float32, c.y.hi*c.n), plane)
	if want := []float32{4. / 3, 8. / 3, 13. / 3, 17. / 3}; !near(got, want) {
		t.Errorf("cut of a 3x2 plane to 2x2 = %v, want %v", got, want)
	}
}

func near(a, b []float32) bool {
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-5 {
			return false
		}
	}
	return len(a) == len(b)
}
