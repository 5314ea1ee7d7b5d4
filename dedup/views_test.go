package dedup

import (
	"image"
	"image/color"
	"math/rand/v2"
	"slices"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/phash"
)

func TestViewRect(t *testing.T) {
	b := image.Rect(10, 20, 210, 120) // 200 x 100, offset origin
	want := map[string]image.Rectangle{
		"image":     b,
		"mirror":    b,
		"crop90":    image.Rect(20, 25, 200, 115),
		"crop90-tl": image.Rect(10, 20, 190, 110),
		"crop90-tr": image.Rect(30, 20, 210, 110),
		"crop90-bl": image.Rect(10, 30, 190, 120),
		"crop90-br": image.Rect(30, 30, 210, 120),
		"crop95":    image.Rect(15, 23, 205, 118),
		"crop95-tl": image.Rect(10, 20, 200, 115),
		"crop95-br": image.Rect(20, 25, 210, 120),
	}
	names := map[string]bool{}
	for _, v := range Views {
		if names[v.Name] {
			t.Errorf("view name %q repeated", v.Name)
		}
		names[v.Name] = true
		if w, ok := want[v.Name]; ok && v.Rect(b) != w {
			t.Errorf("view %s: Rect = %v, want %v", v.Name, v.Rect(b), w)
		}
		if r := v.Rect(b); !r.In(b) || r.Empty() {
			t.Errorf("view %s: Rect %v leaves %v", v.Name, r, b)
		}
	}
	if Views[0].Name != "image" || Views[1].Name != "mirror" || !Views[1].Mirror {
		t.Errorf("views 0 and 1 are %v and %v, want the image and its mirror", Views[0], Views[1])
	}
	// A one-pixel image keeps its pixel in every view.
	one := image.Rect(0, 0, 1, 1)
	for _, v := range Views {
		if r := v.Rect(one); r != one {
			t.Errorf("view %s of a single pixel = %v", v.Name, r)
		}
	}
}

func TestViewApply(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := image.NewNRGBA(image.Rect(5, 7, 45, 37))
	for i := range src.Pix {
		src.Pix[i] = uint8(rng.IntN(256))
	}
	rgba := func(img image.Image, x, y int) color.RGBA {
		return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
	}
	for _, v := range Views {
		got := v.Apply(src)
		r := v.Rect(src.Bounds())
		if got.Bounds().Dx() != r.Dx() || got.Bounds().Dy() != r.Dy() {
			t.Fatalf("view %s: %v, want the size of %v", v.Name, got.Bounds(), r)
		}
		gb := got.Bounds()
		for y := range r.Dy() {
			for x := range r.Dx() {
				sx := r.Min.X + x
				if v.Mirror {
					sx = r.Max.X - 1 - x
				}
				if g, w := rgba(got, gb.Min.X+x, gb.Min.Y+y), rgba(src, sx, r.Min.Y+y); g != w {
					t.Fatalf("view %s pixel (%d,%d) = %v, want %v", v.Name, x, y, g, w)
				}
			}
		}
	}
}

// TestViewsCatchCrops is why the crop views exist: a copy cropped by 10%
// towards a corner hashes near that corner's 90% view, much nearer than
// to the image itself.
func TestViewsCatchCrops(t *testing.T) {
	photos := testkit.Photos(t, photoDir)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range photos {
			if !yield(n) {
				return
			}
		}
	}) {
		img := tile(photos[name], photos[name].Bounds(), 240)
		sig, err := Sign(img)
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		dx, dy := b.Dx()/10, b.Dy()/10
		crop := reencode(subImage(img, image.Rect(dx, 0, b.Dx(), b.Dy()-dy)), 85) // the top-right 90%
		h := mustHash(crop)
		view := slices.IndexFunc(Views, func(v View) bool { return v.Name == "crop90-tr" })
		dv, di := phash.Distance(h, sig.Hashes[view]), phash.Distance(h, sig.Hashes[0])
		if dv > 6 || dv >= di {
			t.Errorf("%s: 10%% crop at distance %d from the crop90-tr view and %d from the image, want <= 6 and nearer", name, dv, di)
		}
	}
}
