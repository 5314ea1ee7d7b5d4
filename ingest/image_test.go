package ingest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/bits"
	"math/rand/v2"
	"os"
	"reflect"
	"sync"
	"testing"

	"weaksup/internal/jpegturbo"
	"weaksup/internal/testkit"
	"weaksup/thumbnail"
)

var testImageConfig = ImageConfig{Size: 32, Quality: 90, MaxPixels: 50_000_000, MinSide: 16, MaxAspect: 10}

func TestNormalize(t *testing.T) {
	webpLossy, err := os.ReadFile("testdata/lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	webpLossless, err := os.ReadFile("testdata/lossless.webp")
	if err != nil {
		t.Fatal(err)
	}
	jpg := testkit.EncodeJPEG(t, testPattern(64, 48, 1), 90)
	gray := image.NewGray(image.Rect(0, 0, 40, 80))
	tests := []struct {
		name         string
		data         []byte
		cfg          ImageConfig
		wantOutcome  string
		wantW, wantH int
		wantFormat   string
	}{
		{"jpeg landscape", jpg, testImageConfig, "", 43, 32, "jpeg"},
		{"jpeg keep size", jpg, ImageConfig{Quality: 80, MaxPixels: 1 << 20, MinSide: 1}, "", 64, 48, "jpeg"},
		{"jpeg upscale", jpg, ImageConfig{Size: 96, Quality: 80, MaxPixels: 1 << 20, MinSide: 1}, "", 128, 96, "jpeg"},
		{"jpeg exif rotate", withOrientation(jpg, 6), testImageConfig, "", 32, 43, "jpeg"},
		{"jpeg exif mirror", withOrientation(jpg, 2), testImageConfig, "", 43, 32, "jpeg"},
		{"png portrait", encodePNG(testPattern(30, 60, 2)), testImageConfig, "", 32, 64, "png"},
		{"gif", encodeGIF(testPattern(50, 50, 3)), testImageConfig, "", 32, 32, "gif"},
		{"gray jpeg", testkit.EncodeJPEG(t, gray, 90), testImageConfig, "", 32, 64, "jpeg"},
		{"webp lossy", webpLossy, testImageConfig, "", 48, 32, "webp"},
		{"webp lossless", webpLossless, testImageConfig, "", 48, 32, "webp"},
		{"bomb header", pngHeaderOnly(20000, 20000), testImageConfig, OutcomeTooManyPixels, 0, 0, "png"},
		{"too small", encodePNG(testPattern(8, 100, 4)), testImageConfig, OutcomeTooSmall, 0, 0, "png"},
		{"strip", encodePNG(testPattern(400, 16, 4)), testImageConfig, OutcomeBadAspect, 0, 0, "png"},
		{"wide but fine", encodePNG(testPattern(160, 16, 4)), testImageConfig, "", 320, 32, "png"},
		{"html", []byte("<!doctype html><html>hello</html>"), testImageConfig, OutcomeNotImage, 0, 0, ""},
		{"empty", nil, testImageConfig, OutcomeNotImage, 0, 0, ""},
		{"truncated jpeg", jpg[:len(jpg)/2], testImageConfig, OutcomeDecodeError, 0, 0, "jpeg"},
		{"bad png header", []byte("\x89PNG\r\n\x1a\nxxxx"), testImageConfig, OutcomeDecodeError, 0, 0, "png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, outcome := Normalize(tt.data, tt.cfg)
			if outcome != tt.wantOutcome {
				t.Fatalf("outcome %q, want %q", outcome, tt.wantOutcome)
			}
			if img.Format != tt.wantFormat {
				t.Errorf("format %q, want %q", img.Format, tt.wantFormat)
			}
			if img.SHA256 != sha256.Sum256(tt.data) {
				t.Errorf("SHA-256 is not that of the downloaded bytes")
			}
			if outcome != "" {
				return
			}
			if img.Width != tt.wantW || img.Height != tt.wantH {
				t.Errorf("size %dx%d, want %dx%d", img.Width, img.Height, tt.wantW, tt.wantH)
			}
			dec, err := jpeg.Decode(bytes.NewReader(img.JPEG))
			if err != nil {
				t.Fatalf("stored image does not decode: %v", err)
			}
			if b := dec.Bounds(); b.Dx() != img.Width || b.Dy() != img.Height {
				t.Errorf("stored JPEG is %v, record says %dx%d", b, img.Width, img.Height)
			}
		})
	}
}

// TestNormalizeOrientation checks where a landmark ends up: the source's
// top-left quadrant is white, the rest black.
func TestNormalizeOrientation(t *testing.T) {
	src := image.NewGray(image.Rect(0, 0, 64, 32))
	for y := range 16 {
		for x := range 32 {
			src.SetGray(x, y, color.Gray{255})
		}
	}
	jpg := testkit.EncodeJPEG(t, src, 95)
	// Which quadrant (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right)
	// is white after each orientation.
	want := map[int]int{1: 0, 2: 1, 3: 3, 4: 2, 5: 0, 6: 1, 7: 3, 8: 2}
	for o, q := range want {
		img, outcome := Normalize(withOrientation(jpg, o), ImageConfig{Quality: 95, MaxPixels: 1 << 20, MinSide: 1})
		if outcome != "" {
			t.Fatalf("orientation %d: outcome %q", o, outcome)
		}
		dec, _ := jpeg.Decode(bytes.NewReader(img.JPEG))
		b := dec.Bounds()
		bright := -1
		for i, p := range []image.Point{{b.Dx() / 4, b.Dy() / 4}, {3 * b.Dx() / 4, b.Dy() / 4}, {b.Dx() / 4, 3 * b.Dy() / 4}, {3 * b.Dx() / 4, 3 * b.Dy() / 4}} {
			if c := color.GrayModel.Convert(dec.At(p.X, p.Y)).(color.Gray); c.Y > 128 {
				bright = i
			}
		}
		if bright != q {
			t.Errorf("orientation %d: white quadrant %d, want %d", o, bright, q)
		}
	}
}

func TestNormalizeTransparentOnWhite(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 40, 40)) // fully transparent
	img, outcome := Normalize(encodePNG(m), testImageConfig)
	if outcome != "" {
		t.Fatal(outcome)
	}
	dec, _ := jpeg.Decode(bytes.NewReader(img.JPEG))
	if c := color.GrayModel.Convert(dec.At(16, 16)).(color.Gray); c.Y < 250 {
		t.Errorf("transparent pixel stored as %v, want white", c)
	}
}

// TestNormalizePHash checks that the perceptual hash follows the picture,
// not the file: the same picture as JPEG and PNG at different sizes hashes
// nearly alike, a different picture does not.
func TestNormalizePHash(t *testing.T) {
	a1, _ := Normalize(testkit.EncodeJPEG(t, testPattern(120, 90, 5), 85), testImageConfig)
	a2, _ := Normalize(encodePNG(testPattern(64, 48, 5)), testImageConfig)
	b, _ := Normalize(testkit.EncodeJPEG(t, testPattern(120, 90, 11), 85), testImageConfig)
	if d := bits.OnesCount64(a1.PHash ^ a2.PHash); d > 6 {
		t.Errorf("same picture: Hamming distance %d, want <= 6", d)
	}
	if d := bits.OnesCount64(a1.PHash ^ b.PHash); d < 12 {
		t.Errorf("different pictures: Hamming distance %d, want >= 12", d)
	}
	// The thumbnail is that of the stored image.
	dec, err := jpeg.Decode(bytes.NewReader(a1.JPEG))
	if err != nil {
		t.Fatal(err)
	}
	if len(a1.Thumbnail) != thumbnail.Len {
		t.Fatalf("thumbnail of %d bytes, want %d", len(a1.Thumbnail), thumbnail.Len)
	}
	want := thumbnail.Make(dec)
	for i := range want {
		if d := int(a1.Thumbnail[i]) - int(want[i]); d < -8 || d > 8 {
			t.Fatalf("thumbnail pixel %d = %d, the stored image's is %d", i, a1.Thumbnail[i], want[i])
		}
	}
}

func TestResizePlane(t *testing.T) {
	// A uniform plane stays uniform at any size.
	flat := plane{pix: bytes.Repeat([]byte{77}, 50*30), w: 50, h: 30, stride: 50, ch: 1}
	for _, size := range [][2]int{{25, 15}, {34, 21}, {17, 9}, {100, 60}, {1, 1}} {
		got := resizePlane(flat, size[0], size[1])
		for i, v := range got.pix {
			if v != 77 {
				t.Fatalf("%dx%d: pixel %d = %d, want 77", size[0], size[1], i, v)
			}
		}
	}
	// A ramp stays a ramp, sampled at the output pixel centres, for every
	// kernel width: shrinking by 1.47 (4 taps), 2.5, and enlarging.
	ramp := plane{pix: make([]byte, 40), w: 40, h: 1, stride: 40, ch: 1}
	for x := range ramp.pix {
		ramp.pix[x] = byte(6*x + 10)
	}
	column := plane{pix: ramp.pix, w: 1, h: 40, stride: 1, ch: 1}
	for _, dw := range []int{27, 16, 60, -27, -16, -60} { // negative: the vertical pass
		var got plane
		if dw > 0 {
			got = resizePlane(ramp, dw, 1)
		} else {
			dw = -dw
			got = resizePlane(column, 1, dw)
		}
		scale := 40 / float64(dw)
		for x := 3; x < dw-3; x++ {
			want := 6*((float64(x)+0.5)*scale-0.5) + 10
			if d := float64(got.pix[x]) - want; d < -1 || d > 1 {
				t.Fatalf("ramp to %d: pixel %d = %d, want %.1f", dw, x, got.pix[x], want)
			}
		}
	}
	// Halving a one-pixel checkerboard averages it instead of sampling it.
	check := plane{pix: make([]byte, 64*64), w: 64, h: 64, stride: 64, ch: 1}
	for y := range 64 {
		for x := range 64 {
			if (x+y)%2 == 0 {
				check.pix[y*64+x] = 254
			}
		}
	}
	got := resizePlane(check, 32, 32)
	for y := 2; y < 30; y++ {
		for x := 2; x < 30; x++ {
			if v := got.pix[y*32+x]; v < 117 || v > 137 {
				t.Fatalf("checkerboard pixel (%d,%d) = %d, want about 127", x, y, v)
			}
		}
	}
}

func TestShorterSide(t *testing.T) {
	tests := []struct{ w, h, size, ww, wh int }{
		{640, 480, 256, 341, 256}, {480, 640, 256, 256, 341}, {300, 300, 256, 256, 256},
		{100, 50, 256, 512, 256}, {640, 480, 0, 640, 480}, {10000, 1, 4, 40000, 4},
	}
	for _, tt := range tests {
		if w, h := shorterSide(tt.w, tt.h, tt.size); w != tt.ww || h != tt.wh {
			t.Errorf("shorterSide(%d, %d, %d) = %d, %d; want %d, %d", tt.w, tt.h, tt.size, w, h, tt.ww, tt.wh)
		}
	}
}

func TestExifOrientation(t *testing.T) {
	jpg := testkit.EncodeJPEG(t, testPattern(16, 16, 1), 80)
	little := []byte{0xff, 0xd8, 0xff, 0xe1, 0, 30, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 8, 0, 0, 0}
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"none", jpg, 1},
		{"big endian 6", withOrientation(jpg, 6), 6},
		{"little endian 8", little, 8},
		{"out of range", withOrientation(jpg, 9), 1},
		{"truncated segment", withOrientation(jpg, 6)[:12], 1},
		{"not jpeg", []byte("GIF89a"), 1},
	}
	for _, tt := range tests {
		if got := exifOrientation(tt.data); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}

func FuzzExifOrientation(f *testing.F) {
	f.Add(withOrientation(testkit.EncodeJPEG(f, testPattern(8, 8, 1), 50), 6))
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := exifOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	f.Add(testkit.EncodeJPEG(f, testPattern(20, 20, 1), 50))
	f.Add(encodePNG(testPattern(20, 20, 2)))
	f.Add(encodeGIF(testPattern(20, 20, 3)))
	f.Add(pngHeaderOnly(5000, 5000))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, outcome := Normalize(data, ImageConfig{Size: 16, Quality: 50, MaxPixels: 1 << 20, MinSide: 1, MaxAspect: 16})
		if outcome == "" && (img.Width <= 0 || len(img.JPEG) == 0) {
			t.Fatalf("ok outcome with an empty image: %+v", img)
		}
	})
}

// TestNormalizeOddSizedThumbnail keeps a small odd-sized 4:2:0 JPEG at its
// size, as the demo's crawl does: its thumbnail, colour included, is that
// of the picture image/jpeg decodes, whichever codec the build has (a
// libjpeg-turbo decode into planes of the visible size once shifted the
// chroma of the top rows by tens of levels).
func TestNormalizeOddSizedThumbnail(t *testing.T) {
	cfg := testImageConfig
	cfg.Size = 0
	for _, side := range []int{65, 33} {
		src := testkit.EncodeJPEG(t, testPattern(side, side, 7), 90)
		img, outcome := Normalize(src, cfg)
		if outcome != "" {
			t.Fatalf("%dx%d: %s", side, side, outcome)
		}
		dec, err := jpeg.Decode(bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		want := thumbnail.Make(dec)
		for i := range want {
			if d := int(img.Thumbnail[i]) - int(want[i]); d < -3 || d > 3 {
				t.Fatalf("%dx%d (%s): thumbnail byte %d = %d, want %d (bytes from %d on are colour)",
					side, side, jpegturbo.Codec, i, img.Thumbnail[i], want[i], thumbnail.LumaLen)
			}
		}
	}
}

// TestNormalizeIndependentOfHistory normalizes JPEGs through the pooled
// codecs, as the crawl's workers do: each right after damaged ones, then
// all of them from eight goroutines in shuffled orders. Every result must
// be exactly that of a new codec, at the stored size (the demo's
// --image-size none) and DCT-scaled. With libjpeg-turbo decompressors kept
// in the pool, a JPEG cut inside its Huffman tables (as the demo server
// cuts some) left its codec decoding every later JPEG with image/jpeg, so
// which stored images came out different hung on which worker took which
// record.
func TestNormalizeIndependentOfHistory(t *testing.T) {
	var good [][]byte
	for i, size := range []image.Point{{64, 42}, {61, 45}, {48, 64}, {80, 80}} {
		good = append(good, testkit.EncodeJPEG(t, photoLike(size.X, size.Y, i+1), 85))
	}
	gray := image.NewGray(image.Rect(0, 0, 50, 40))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 7 % 251)
	}
	good = append(good, testkit.EncodeJPEG(t, gray, 85))
	src := good[0]
	dht, sos := bytes.Index(src, []byte{0xff, 0xc4}), bytes.Index(src, []byte{0xff, 0xda})
	if dht < 0 || sos < dht {
		t.Fatalf("test JPEG: Huffman tables at %d, SOS at %d", dht, sos)
	}
	damaged := [][]byte{src[:dht+12], src[:sos+7], src[:len(src)*45/100], src[:len(src)*2/3], src[:30]}

	type result struct {
		img     Image
		outcome string
	}
	configs := []ImageConfig{
		{Quality: 90, MaxPixels: 50_000_000, MinSide: 16, MaxAspect: 10}, // kept at its size
		testImageConfig, // shorter side 32: DCT-scaled
	}
	all := append(append([][]byte(nil), good...), damaged...)
	want := make([][]result, len(configs))
	for ci, cfg := range configs {
		for _, data := range all {
			c := new(codec)
			img, outcome := c.normalize(data, cfg)
			c.dec.Close()
			c.enc.Close()
			want[ci] = append(want[ci], result{img, outcome})
		}
		for i := range good {
			if want[ci][i].outcome != "" {
				t.Fatalf("config %d: good JPEG %d: outcome %q with a new codec", ci, i, want[ci][i].outcome)
			}
		}
	}
	check := func(ci, i int, after string) {
		t.Helper()
		img, outcome := Normalize(all[i], configs[ci])
		if w := want[ci][i]; outcome != w.outcome || !reflect.DeepEqual(img, w.img) {
			t.Errorf("config %d, JPEG %d (%s), after %s: outcome %q, %dx%d, pHash %016x, stored JPEG %x; a new codec gives %q, %dx%d, %016x, %x",
				ci, i, jpegturbo.Codec, after, outcome, img.Width, img.Height, img.PHash, sha256.Sum256(img.JPEG),
				w.outcome, w.img.Width, w.img.Height, w.img.PHash, sha256.Sum256(w.img.JPEG))
		}
	}
	for ci := range configs {
		for d := range damaged {
			for i := range good {
				Normalize(damaged[d], configs[ci])
				check(ci, i, fmt.Sprintf("damaged JPEG %d", d))
			}
		}
	}
	type job struct{ ci, i int }
	var jobs []job
	for ci := range configs {
		for i := range all {
			for range 3 {
				jobs = append(jobs, job{ci, i})
			}
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(jobs), func(a, b int) { jobs[a], jobs[b] = jobs[b], jobs[a] })
	ch := make(chan job)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				check(j.ci, j.i, "others, concurrently")
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
}
