package thumbnail

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"path/filepath"
	"testing"

	xdraw "golang.org/x/image/draw"

	"weaksup/internal/testkit"
)

// photoDir holds the test photographs; dedup's near-duplicate tests use
// the same ones.
var photoDir = filepath.Join("..", "dedup", "testdata", "photos")

func TestUniformAndHalves(t *testing.T) {
	img := image.NewGray(image.Rect(3, 4, 103, 61))
	for i := range img.Pix {
		img.Pix[i] = 77
	}
	th := Make(img)
	if len(th) != Len {
		t.Fatalf("thumbnail of %d bytes, want %d", len(th), Len)
	}
	for i, v := range th {
		if want := uint8(77); i >= LumaLen {
			want = 128 // grey has neutral chroma
			if v != want {
				t.Fatalf("uniform image: chroma %d = %d, want %d", i-LumaLen, v, want)
			}
		} else if v != want {
			t.Fatalf("uniform image: thumbnail pixel %d = %d, want %d", i, v, want)
		}
	}
	// Left half black, right half white: the halves stay exact.
	half := image.NewGray(image.Rect(0, 0, 4*Side, 2*Side))
	for y := range half.Rect.Dy() {
		for x := 2 * Side; x < 4*Side; x++ {
			half.Pix[y*half.Stride+x] = 255
		}
	}
	th = Make(half)
	for y := range Side {
		for x := range Side {
			want := uint8(0)
			if x >= Side/2 {
				want = 255
			}
			if th[y*Side+x] != want {
				t.Fatalf("halves: pixel (%d,%d) = %d, want %d", x, y, th[y*Side+x], want)
			}
		}
	}
	for _, empty := range []image.Image{nil, image.NewGray(image.Rect(0, 0, 0, 5))} {
		if Make(empty) != nil {
			t.Errorf("thumbnail of an empty image %v is not nil", empty)
		}
	}
}

// TestColour checks the chroma planes: a red left half and a blue right
// half give Cb and Cr of those colours on their sides.
func TestColour(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 80, 40))
	red, blue := color.RGBA{200, 30, 30, 255}, color.RGBA{30, 30, 200, 255}
	for y := range 40 {
		for x := range 80 {
			c := red
			if x >= 40 {
				c = blue
			}
			img.SetRGBA(x, y, c)
		}
	}
	th := Make(img)
	cb, cr := th[LumaLen:LumaLen+ChromaLen], th[LumaLen+ChromaLen:]
	for _, side := range []struct {
		x int
		c color.RGBA
	}{{0, red}, {ChromaSide - 1, blue}} {
		_, wb, wr := color.RGBToYCbCr(side.c.R, side.c.G, side.c.B)
		for y := range ChromaSide {
			if gb, gr := cb[y*ChromaSide+side.x], cr[y*ChromaSide+side.x]; gb != wb || gr != wr {
				t.Fatalf("cell (%d,%d): Cb, Cr = %d, %d, want %d, %d", side.x, y, gb, gr, wb, wr)
			}
		}
	}
}

// inColorModels returns img converted to the concrete image types the
// decoders produce, plus a sub-image with a non-zero origin.
func inColorModels(img image.Image) map[string]image.Image {
	b := img.Bounds()
	conv := func(dst draw.Image) image.Image {
		draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
		return dst
	}
	rgba := conv(image.NewRGBA(b)).(*image.RGBA)
	return map[string]image.Image{
		"rgba":     rgba,
		"nrgba":    conv(image.NewNRGBA(b)),
		"rgba64":   conv(image.NewRGBA64(b)),
		"gray":     conv(image.NewGray(b)),
		"subimage": rgba.SubImage(image.Rect(b.Min.X+7, b.Min.Y+5, b.Max.X-3, b.Max.Y-9)),
	}
}

// TestColorModels checks that every image type the decoders produce gives
// the same thumbnail, within rounding.
func TestColorModels(t *testing.T) {
	img := testkit.Photos(t, photoDir)["Garden.jpg"]
	want := Make(img)
	models := inColorModels(img)
	for name, m := range models {
		if name == "subimage" {
			continue
		}
		got := Make(m)
		n := len(want)
		if name == "gray" {
			n = LumaLen // a grey copy has no chroma
		}
		for i := range want[:n] {
			if d := int(got[i]) - int(want[i]); d < -2 || d > 2 {
				t.Fatalf("%s: pixel %d = %d, want %d", name, i, got[i], want[i])
			}
		}
	}
	// A sub-image is the thumbnail of its own pixels.
	sub := models["subimage"]
	b := sub.Bounds()
	cp := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(cp, cp.Bounds(), sub, b.Min, draw.Src)
	if got, want := Make(sub), Make(cp); string(got) != string(want) {
		t.Errorf("sub-image thumbnail differs from the thumbnail of a copy")
	}
}

// TestScale checks that the thumbnail does not depend on the image's size.
func TestScale(t *testing.T) {
	img := testkit.Photos(t, photoDir)["Wood.jpg"]
	want := Make(img)
	for _, f := range []float64{0.5, 2} {
		b := img.Bounds()
		dst := image.NewRGBA(image.Rect(0, 0, int(math.Round(float64(b.Dx())*f)), int(math.Round(float64(b.Dy())*f))))
		xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
		got := Make(dst)
		var sum float64
		for i := range want {
			sum += math.Abs(float64(got[i]) - float64(want[i]))
		}
		if mean := sum / float64(len(want)); mean > 2 {
			t.Errorf("scaled %gx: mean difference %.2f levels, want <= 2", f, mean)
		}
	}
}
