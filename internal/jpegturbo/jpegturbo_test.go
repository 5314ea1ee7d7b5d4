package jpegturbo

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestScaleFor(t *testing.T) {
	for _, tc := range []struct {
		side float64
		want int
		s    Scale
	}{
		{256, 64, 2},  // 1/4 gives exactly 64
		{255, 64, 3},  // 1/4 would give 63.75
		{480, 256, 5}, // ingest: a 640×480 photo stored at 256
		{300, 256, 7}, // 7/8 gives 262.5
		{200, 256, 8}, // never upscale: full size
		{2048, 64, 1}, // the smallest scale is 1/8
		{64, 64, 8},   // only full size covers it
		{72.4, 64, 8}, // a fractional crop side
		{1000, 0, 1},  // nothing wanted
	} {
		if got := ScaleFor(tc.side, tc.want); got != tc.s {
			t.Errorf("ScaleFor(%g, %d) = %d/8, want %d/8", tc.side, tc.want, got, tc.s)
		}
	}
	for _, tc := range []struct{ s, n, want int }{{8, 61, 61}, {4, 61, 31}, {1, 61, 8}, {3, 45, 17}, {7, 1, 1}} {
		if got := Scale(tc.s).Of(tc.n); got != tc.want {
			t.Errorf("Scale(%d).Of(%d) = %d, want %d", tc.s, tc.n, got, tc.want)
		}
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// meanDiff is the mean absolute difference of the RGB values of a and b,
// which must have the same bounds.
func meanDiff(t *testing.T, a, b image.Image) float64 {
	t.Helper()
	if a.Bounds() != b.Bounds() {
		t.Fatalf("bounds %v and %v differ", a.Bounds(), b.Bounds())
	}
	var sum float64
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c1 := color.RGBAModel.Convert(a.At(x, y)).(color.RGBA)
			c2 := color.RGBAModel.Convert(b.At(x, y)).(color.RGBA)
			sum += math.Abs(float64(c1.R)-float64(c2.R)) + math.Abs(float64(c1.G)-float64(c2.G)) + math.Abs(float64(c1.B)-float64(c2.B))
		}
	}
	return sum / float64(3*r.Dx()*r.Dy())
}

func goDecoded(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestDecodeMatchesImageJPEG decodes JPEGs of every sampling this package
// writes as planes, and a CMYK one it hands to image/jpeg, at full size:
// the pixels must be those image/jpeg decodes, up to IDCT rounding.
func TestDecodeMatchesImageJPEG(t *testing.T) {
	var d Decoder
	defer d.Close()
	for _, name := range []string{"photo-444.jpg", "photo-422.jpg", "photo-420.jpg", "photo-gray.jpg", "cmyk.jpg"} {
		data := readTestdata(t, name)
		want := goDecoded(t, data)
		w, h, err := d.Size(data)
		if err != nil {
			t.Fatalf("%s: size: %v", name, err)
		}
		if w != want.Bounds().Dx() || h != want.Bounds().Dy() {
			t.Errorf("%s: size %dx%d, want %v", name, w, h, want.Bounds())
		}
		got, err := d.Decode(data, Full)
		if err != nil {
			t.Fatalf("%s: decode: %v", name, err)
		}
		if diff := meanDiff(t, got, want); diff > 1.5 {
			t.Errorf("%s (%s): mean difference %.2f from image/jpeg, want at most 1.5", name, Codec, diff)
		}
	}
}

// TestScaledDecode decodes at every scale: libjpeg-turbo returns the
// scaled size, and the picture is the full one shrunk (compared with a box
// filter over the full decode); image/jpeg returns the full size.
func TestScaledDecode(t *testing.T) {
	var d Decoder
	defer d.Close()
	data := readTestdata(t, "photo-420.jpg")
	full := goDecoded(t, data)
	for s := Scale(1); s <= Full; s++ {
		img, err := d.Decode(data, s)
		if err != nil {
			t.Fatalf("scale %d/8: %v", s, err)
		}
		b := img.Bounds()
		if Codec == "image/jpeg" {
			if b != full.Bounds() {
				t.Errorf("scale %d/8 with image/jpeg: bounds %v, want the full %v", s, b, full.Bounds())
			}
			continue
		}
		if b.Dx() != s.Of(61) || b.Dy() != s.Of(45) {
			t.Fatalf("scale %d/8: bounds %v, want %dx%d", s, b, s.Of(61), s.Of(45))
		}
		if _, ok := img.(*image.YCbCr); !ok {
			t.Errorf("scale %d/8: got %T, want *image.YCbCr", s, img)
		}
		// Compare the interior (edge blocks are padded) with a box-filtered
		// full decode.
		var sum float64
		n := 0
		f := 8 / float64(s)
		for y := 1; y < b.Dy()-1; y++ {
			for x := 1; x < b.Dx()-1; x++ {
				var acc float64
				cnt := 0
				for yy := int(float64(y) * f); yy < int(float64(y+1)*f); yy++ {
					for xx := int(float64(x) * f); xx < int(float64(x+1)*f); xx++ {
						acc += float64(color.GrayModel.Convert(full.At(xx, yy)).(color.Gray).Y)
						cnt++
					}
				}
				if cnt == 0 {
					continue
				}
				got := float64(color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y)
				sum += math.Abs(got - acc/float64(cnt))
				n++
			}
		}
		if n > 0 && sum/float64(n) > 12 {
			t.Errorf("scale %d/8: mean luma difference %.1f from the shrunk full decode, want at most 12", s, sum/float64(n))
		}
	}
}

// TestDecoderReusesItsBuffer decodes a large image, a small one and the
// large one again with one decoder: each result is right when it comes.
func TestDecoderReusesItsBuffer(t *testing.T) {
	var d Decoder
	defer d.Close()
	big := readTestdata(t, "photo-444.jpg")
	small := readTestdata(t, "photo-gray.jpg")
	for i, data := range [][]byte{big, small, big, small} {
		got, err := d.Decode(data, Full)
		if err != nil {
			t.Fatal(err)
		}
		if diff := meanDiff(t, got, goDecoded(t, data)); diff > 1.5 {
			t.Errorf("decode %d: mean difference %.2f, want at most 1.5", i, diff)
		}
	}
}

// TestDamagedJPEG: truncated and garbled data are errors, never panics,
// and the decoder still works afterwards.
func TestDamagedJPEG(t *testing.T) {
	var d Decoder
	defer d.Close()
	data := readTestdata(t, "photo-420.jpg")
	garbled := bytes.Clone(data)
	for i := len(garbled) / 3; i < len(garbled)-2; i += 7 {
		garbled[i] ^= 0x5a
	}
	for name, bad := range map[string][]byte{
		"empty": nil, "not a JPEG": []byte("GIF89a........"), "header only": data[:20],
		"truncated": data[:len(data)/2], "garbled": garbled,
	} {
		if _, err := d.Decode(bad, Full); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if _, err := d.Decode(data, Full); err != nil {
		t.Errorf("after damaged input: %v", err)
	}
}

// testImages are images of the types callers encode, with odd sizes and
// planes allocated to their exact visible size (as resizers make them).
func testImages() map[string]image.Image {
	const w, h = 37, 23
	val := func(x, y, c int) uint8 { // smooth, so chroma subsampling loses little
		return uint8(128 + 60*math.Sin(float64(x)/6+float64(c))*math.Cos(float64(y)/5-float64(c)))
	}
	ycc := &image.YCbCr{Y: make([]byte, w*h), Cb: make([]byte, 19*12), Cr: make([]byte, 19*12),
		YStride: w, CStride: 19, SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, w, h)}
	for y := range h {
		for x := range w {
			ycc.Y[y*w+x] = val(x, y, 0)
		}
	}
	for y := range 12 {
		for x := range 19 {
			ycc.Cb[y*19+x], ycc.Cr[y*19+x] = val(x, y, 1), val(x, y, 2)
		}
	}
	ycc444 := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio444)
	gray := image.NewGray(image.Rect(0, 0, w, h))
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	nrgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			ycc444.Y[y*w+x], ycc444.Cb[y*w+x], ycc444.Cr[y*w+x] = val(x, y, 0), val(x, y, 1), val(x, y, 2)
			gray.Pix[y*gray.Stride+x] = val(x, y, 0)
			c := color.RGBA{val(x, y, 0), val(x, y, 1), val(x, y, 2), 255}
			rgba.SetRGBA(x, y, c)
			nrgba.Set(x, y, c)
		}
	}
	return map[string]image.Image{"ycbcr 4:2:0": ycc, "ycbcr 4:4:4": ycc444, "gray": gray, "rgba": rgba, "nrgba": nrgba}
}

// TestEncodeRoundTrip encodes every image type and reads it back with
// image/jpeg: same size, same pixels up to JPEG loss.
func TestEncodeRoundTrip(t *testing.T) {
	var e Encoder
	defer e.Close()
	for name, img := range testImages() {
		for range 2 { // the second time reuses the encoder's buffers
			data, err := e.Encode(img, 95)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got := goDecoded(t, data)
			if diff := meanDiff(t, got, img); diff > 6 {
				t.Errorf("%s (%s): mean difference %.2f after a round trip, want at most 6", name, Codec, diff)
			}
			if _, isGray := img.(*image.Gray); isGray {
				if _, ok := got.(*image.Gray); !ok {
					t.Errorf("%s: decodes as %T, want a gray JPEG", name, got)
				}
			}
		}
	}
}

// TestOddSized420Planes decodes 4:2:0 JPEGs of odd sizes, whose planes
// libjpeg-turbo pads to whole chroma samples, and compares every Y', Cb and
// Cr sample with image/jpeg's: a plane sized to the visible image instead
// lets the padded last luma row run into Cb and shifts the colour of the
// top rows by tens of levels.
func TestOddSized420Planes(t *testing.T) {
	var d Decoder
	defer d.Close()
	for _, size := range []image.Point{{65, 65}, {61, 45}, {33, 17}, {17, 33}, {9, 9}, {3, 5}, {1, 1}} {
		img := image.NewRGBA(image.Rect(0, 0, size.X, size.Y))
		for y := range size.Y {
			for x := range size.X {
				// Strong colour everywhere, different in the top rows.
				img.SetRGBA(x, y, color.RGBA{uint8(40 + 170*x/size.X), uint8(200 - 150*y/size.Y), uint8(60 + 30*((x+y)%5)), 255})
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil { // 4:2:0
			t.Fatal(err)
		}
		want, ok := goDecoded(t, buf.Bytes()).(*image.YCbCr)
		if !ok || want.SubsampleRatio != image.YCbCrSubsampleRatio420 {
			t.Fatalf("%v: image/jpeg decodes %T, want 4:2:0 Y'CbCr", size, want)
		}
		for run := range 2 { // the second decode reuses the buffer
			dec, err := d.Decode(buf.Bytes(), Full)
			if err != nil {
				t.Fatalf("%v: %v", size, err)
			}
			got, ok := dec.(*image.YCbCr)
			if !ok || got.SubsampleRatio != want.SubsampleRatio || got.Rect != want.Rect {
				t.Fatalf("%v: decoded %T %v, want 4:2:0 Y'CbCr %v", size, dec, dec.Bounds(), want.Rect)
			}
			for y := range size.Y {
				for x := range size.X {
					gy, wy := got.Y[got.YOffset(x, y)], want.Y[want.YOffset(x, y)]
					gc, wc := got.COffset(x, y), want.COffset(x, y)
					for _, p := range []struct {
						name string
						g, w uint8
					}{{"Y'", gy, wy}, {"Cb", got.Cb[gc], want.Cb[wc]}, {"Cr", got.Cr[gc], want.Cr[wc]}} {
						if diff := int(p.g) - int(p.w); diff < -2 || diff > 2 {
							t.Fatalf("%v decode %d (%s): %s at (%d,%d) = %d, image/jpeg has %d", size, run, Codec, p.name, x, y, p.g, p.w)
						}
					}
				}
			}
		}
	}
}
