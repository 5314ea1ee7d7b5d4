package loader

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"

	"weaksup/internal/jpegturbo"
	"weaksup/internal/testkit"
)

func TestTransformUniformColor(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 90, 60))
	c := color.RGBA{200, 100, 40, 255}
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
	}
	data := testkit.EncodeJPEG(t, img, 100)
	for _, train := range []bool{false, true} {
		tf := NewTransform(16, train)
		dst := make([]float32, 3*16*16)
		if err := tf.Apply(dst, data, rand.New(rand.NewPCG(1, 1))); err != nil {
			t.Fatal(err)
		}
		for ch, v := range []uint8{c.R, c.G, c.B} {
			want := (float32(v)/255 - tf.Mean[ch]) / tf.Std[ch]
			tol := float32(3) / 255 / tf.Std[ch] // JPEG rounding of a flat color
			for i := ch * 256; i < (ch+1)*256; i++ {
				if d := dst[i] - want; d > tol || d < -tol {
					t.Fatalf("train=%v channel %d pixel %d = %g, want %g ± %g", train, ch, i-ch*256, dst[i], want, tol)
				}
			}
		}
	}
}

// referenceResample computes one output pixel of a gray image directly as a
// 2-D triangle-filter average, independently of the separable code.
func referenceResample(g *image.Gray, size int, x0, y0, cw, ch float64, ox, oy int) float64 {
	sx, sy := math.Max(cw/float64(size), 1), math.Max(ch/float64(size), 1)
	cx := x0 + (float64(ox)+0.5)*cw/float64(size) - 0.5
	cy := y0 + (float64(oy)+0.5)*ch/float64(size) - 0.5
	var acc, wsum float64
	b := g.Bounds()
	for y := 0; y < b.Dy(); y++ {
		wy := math.Max(0, 1-math.Abs(float64(y)-cy)/sy)
		if wy == 0 {
			continue
		}
		for x := 0; x < b.Dx(); x++ {
			wx := math.Max(0, 1-math.Abs(float64(x)-cx)/sx)
			acc += wx * wy * float64(g.GrayAt(x, y).Y)
			wsum += wx * wy
		}
	}
	return acc / wsum
}

func TestTransformMatchesReferenceResampling(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	g := image.NewGray(image.Rect(0, 0, 120, 80))
	for y := 0; y < 80; y++ {
		for x := 0; x < 120; x++ {
			g.SetGray(x, y, color.Gray{uint8(2*x + y/3 + r.IntN(20))})
		}
	}
	data := testkit.EncodeJPEG(t, g, 100)
	dec, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	gray := dec.(*image.Gray)
	for _, size := range []int{8, 24, 100} { // downscale, mild downscale, upscale
		tf := NewTransform(size, false)
		tf.Mean, tf.Std = [3]float32{}, [3]float32{1, 1, 1}
		dst := make([]float32, 3*size*size)
		if err := tf.Apply(dst, data, nil); err != nil {
			t.Fatal(err)
		}
		side := 80 * tf.CropFraction
		x0, y0 := (120-side)/2, (80-side)/2
		// libjpeg-turbo may scale down in the DCT domain, a slightly
		// different filter than the reference; the standard decoder is exact.
		tol := 1e-4
		if jpegturbo.Codec != "image/jpeg" && jpegturbo.ScaleFor(side, size) < jpegturbo.Full {
			tol = 0.01
		}
		for _, p := range [][2]int{{0, 0}, {size - 1, 0}, {size / 2, size / 3}, {size - 1, size - 1}} {
			want := referenceResample(gray, size, x0, y0, side, side, p[0], p[1]) / 255
			for ch := 0; ch < 3; ch++ {
				got := float64(dst[ch*size*size+p[1]*size+p[0]])
				if math.Abs(got-want) > tol {
					t.Errorf("size %d pixel %v channel %d = %.5f, want %.5f ± %g", size, p, ch, got, want, tol)
				}
			}
		}
	}
}

func TestTransformFlipsAboutHalfTheTime(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 64, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			g.SetGray(x, y, color.Gray{uint8(4 * x)})
		}
	}
	data := testkit.EncodeJPEG(t, g, 100)
	tf := NewTransform(8, true)
	dst := make([]float32, 3*64)
	flips := 0
	const n = 400
	r := rand.New(rand.NewPCG(8, 8))
	for range n {
		if err := tf.Apply(dst, data, r); err != nil {
			t.Fatal(err)
		}
		left, right := dst[0], dst[7]
		if left > right {
			flips++
		}
	}
	// Binomial(400, 1/2): sd 10; allow 4 sd.
	if flips < 160 || flips > 240 {
		t.Errorf("%d of %d crops flipped, want about %d", flips, n, n/2)
	}
}

func TestRandomResizedCropBounds(t *testing.T) {
	tf := NewTransform(64, true)
	r := rand.New(rand.NewPCG(2, 2))
	small, large := 0, 0
	for range 2000 {
		x0, y0, cw, ch := tf.cropBox(256, 192, r)
		if x0 < 0 || y0 < 0 || x0+cw > 256 || y0+ch > 192 || cw <= 0 || ch <= 0 {
			t.Fatalf("crop %v,%v %vx%v outside the 256x192 image", x0, y0, cw, ch)
		}
		area := cw * ch / (256 * 192)
		ar := cw / ch
		if area < 0.08-0.01 || area > 1 || ar < 0.75-0.02 || ar > 4.0/3+0.02 {
			t.Fatalf("crop area fraction %.3f ratio %.3f outside [0.08,1]×[3/4,4/3]", area, ar)
		}
		if area < 0.2 {
			small++
		}
		if area > 0.7 {
			large++
		}
	}
	if small == 0 || large == 0 {
		t.Errorf("crops under 20%% area: %d, over 70%%: %d; want both", small, large)
	}
}

func TestTransformRejectsBadInput(t *testing.T) {
	tf := NewTransform(8, false)
	for name, data := range map[string][]byte{"empty": nil, "text": []byte("not an image"), "truncated jpeg": {0xff, 0xd8, 0xff}} {
		if err := tf.Apply(make([]float32, 3*64), data, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := tf.Apply(make([]float32, 10), testkit.EncodeJPEG(t, image.NewGray(image.Rect(0, 0, 8, 8)), 100), nil); err == nil {
		t.Errorf("short destination: no error")
	}
}

func FuzzTransform(f *testing.F) {
	f.Add(testkit.PhotoJPEG(f, 1, 24, 16, 80))
	f.Add(testkit.PhotoJPEG(f, 2, 9, 31, 50)[:200])
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, train := range []bool{false, true} {
			tf := NewTransform(8, train)
			dst := make([]float32, 3*64)
			if err := tf.Apply(dst, data, rand.New(rand.NewPCG(1, 2))); err != nil {
				continue
			}
			for i, v := range dst {
				if math.IsNaN(float64(v)) || math.Abs(float64(v)) > 3 {
					t.Fatalf("pixel %d = %g, outside the normalized range", i, v)
				}
			}
		}
	})
}

// TestApplyImageOffOrigin transforms images whose bounds do not start at
// (0, 0), as SubImage makes them: the result is that of the same pixels
// at the origin.
func TestApplyImageOffOrigin(t *testing.T) {
	full := image.NewYCbCr(image.Rect(0, 0, 40, 30), image.YCbCrSubsampleRatio420)
	gray := image.NewGray(image.Rect(0, 0, 40, 30))
	for i := range full.Y {
		full.Y[i] = uint8(i * 7)
		gray.Pix[i] = uint8(i * 5)
	}
	for i := range full.Cb {
		full.Cb[i], full.Cr[i] = uint8(i*3), uint8(255-i)
	}
	for _, src := range []image.Image{full, gray} {
		sub := src.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(image.Rect(6, 4, 38, 28))
		moved := image.NewRGBA(image.Rect(0, 0, 32, 24))
		draw.Draw(moved, moved.Rect, sub, sub.Bounds().Min, draw.Src)
		tf := NewTransform(12, false)
		got, want := make([]float32, 3*12*12), make([]float32, 3*12*12)
		if err := applyImage(tf, got, sub, nil); err != nil {
			t.Fatal(err)
		}
		if err := applyImage(tf, want, moved, nil); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if math.Abs(float64(got[i]-want[i])) > 0.02 {
				t.Fatalf("%T sub-image: value %d = %g, want %g (the same pixels at the origin)", src, i, got[i], want[i])
			}
		}
	}
}
