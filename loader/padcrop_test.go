package loader

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"weaksup/datasets"
)

func planarTestImage(seed uint64, w, h int) *datasets.PlanarRGB {
	r := rand.New(rand.NewPCG(seed, 9))
	p := &datasets.PlanarRGB{Pix: make([]uint8, 3*w*h), W: w, H: h}
	for i := range p.Pix {
		p.Pix[i] = uint8(r.IntN(256))
	}
	return p
}

// shifted returns what output pixel (x, y) of channel c must be for a
// window at (x0, y0), flipped or not: the normalized source pixel, or the
// normalized zero of the padding.
func shifted(tf Transform, p *datasets.PlanarRGB, c, x, y, x0, y0 int, flip bool) float32 {
	if flip {
		x = tf.Size - 1 - x
	}
	sx, sy := x0+x, y0+y
	v := float32(0)
	if sx >= 0 && sy >= 0 && sx < p.W && sy < p.H {
		v = float32(p.Plane(c)[sy*p.W+sx])
	}
	return (v/255 - tf.Mean[c]) / tf.Std[c]
}

// TestPaddedCropEvaluation: in evaluation the image is normalized as it
// is (and a larger image is center-cropped).
func TestPaddedCropEvaluation(t *testing.T) {
	for _, side := range []int{32, 36} {
		p := planarTestImage(1, side, side)
		tf := NewCIFARTransform(32, false, CIFAR10Mean, CIFAR10Std)
		dst := make([]float32, 3*32*32)
		if err := applyImage(tf, dst, p, nil); err != nil {
			t.Fatal(err)
		}
		off := (side - 32) / 2
		for c := range 3 {
			for y := range 32 {
				for x := range 32 {
					if got, want := dst[c*1024+y*32+x], shifted(tf, p, c, x, y, off, off, false); math.Abs(float64(got-want)) > 1e-5 {
						t.Fatalf("side %d channel %d (%d,%d): %g, want %g", side, c, x, y, got, want)
					}
				}
			}
		}
	}
}

// TestPaddedCropTraining: every training output is the image shifted by
// at most Pad pixels (zeros beyond its edge), flipped or not; over many
// draws every shift and both flips occur.
func TestPaddedCropTraining(t *testing.T) {
	p := planarTestImage(2, 32, 32)
	tf := NewCIFARTransform(32, true, CIFAR10Mean, CIFAR10Std)
	dst := make([]float32, 3*32*32)
	seen := map[[3]int]bool{}
	for seed := range uint64(3000) {
		if err := applyImage(tf, dst, p, rand.New(rand.NewPCG(seed, 1))); err != nil {
			t.Fatal(err)
		}
		found := false
		for dy := -4; dy <= 4 && !found; dy++ {
			for dx := -4; dx <= 4 && !found; dx++ {
				for _, flip := range []bool{false, true} {
					ok := true
					for i := 0; i < 3*1024 && ok; i += 7 {
						c, y, x := i/1024, i%1024/32, i%32
						ok = math.Abs(float64(dst[i]-shifted(tf, p, c, x, y, dx, dy, flip))) < 1e-5
					}
					if ok {
						seen[[3]int{dx, dy, map[bool]int{false: 0, true: 1}[flip]}] = true
						found = true
						break
					}
				}
			}
		}
		if !found {
			t.Fatalf("seed %d: output is no shift of the image within 4 pixels", seed)
		}
	}
	if len(seen) != 9*9*2 {
		t.Errorf("saw %d of the 162 shifts and flips", len(seen))
	}
}

// TestPaddedCropSameForEveryImageType: planar pixels, NRGBA pixels and a
// PNG of the same image give the same output.
func TestPaddedCropSameForEveryImageType(t *testing.T) {
	p := planarTestImage(3, 32, 32)
	nrgba := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := range 32 {
		for x := range 32 {
			nrgba.Set(x, y, p.At(x, y))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, nrgba); err != nil {
		t.Fatal(err)
	}
	for _, train := range []bool{false, true} {
		tf := NewCIFARTransform(32, train, CIFAR100Mean, CIFAR100Std)
		outs := make([][]float32, 3)
		for k := range outs {
			outs[k] = make([]float32, 3*1024)
			r := rand.New(rand.NewPCG(5, 5))
			var err error
			switch k {
			case 0:
				err = applyImage(tf, outs[k], p, r)
			case 1:
				err = applyImage(tf, outs[k], nrgba, r)
			default:
				err = tf.Apply(outs[k], buf.Bytes(), r)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		for k := 1; k < 3; k++ {
			for i := range outs[0] {
				if outs[k][i] != outs[0][i] {
					t.Fatalf("train=%v: input %d differs from the planar image at %d", train, k, i)
				}
			}
		}
	}
	tf := NewCIFARTransform(32, true, CIFAR10Mean, CIFAR10Std)
	if err := applyImage(tf, make([]float32, 3*1024), planarTestImage(1, 20, 32), rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Errorf("a 20x32 image with 4 pixels of padding gave a 32x32 crop")
	}
}

// TestCIFARThroughLoader loads a CIFAR split with the CIFAR transform and
// checks the batches against the transform applied by hand, and the
// channel statistics against a direct count.
func TestCIFARThroughLoader(t *testing.T) {
	dir := t.TempDir()
	var train []datasets.CIFARRecord
	for i := range 24 {
		var rec datasets.CIFARRecord
		rec.Label = uint8(i % 10)
		copy(rec.Pixels[:], planarTestImage(uint64(i), 32, 32).Pix)
		train = append(train, rec)
	}
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	if _, err := datasets.WriteCIFAR10(dir, names, train, train[:4]); err != nil {
		t.Fatal(err)
	}
	ds, err := datasets.OpenCIFAR10(dir)
	if err != nil {
		t.Fatal(err)
	}
	split, err := ds.Split(datasets.SplitTrain)
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSplitSource(split, 10)
	if err != nil {
		t.Fatal(err)
	}
	mean, std, err := ChannelStats(src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var sum, sq float64
	for _, rec := range train {
		for _, v := range rec.Pixels[1024:2048] {
			sum += float64(v) / 255
			sq += float64(v) * float64(v) / 255 / 255
		}
	}
	m := sum / (24 * 1024)
	if math.Abs(float64(mean[1])-m) > 1e-5 || math.Abs(float64(std[1])-math.Sqrt(sq/(24*1024)-m*m)) > 1e-5 {
		t.Errorf("green statistics %v %v, want %v %v", mean[1], std[1], m, math.Sqrt(sq/(24*1024)-m*m))
	}
	tf := NewCIFARTransform(32, false, mean, std)
	l, err := New(src, Config{Batch: 8, ImageSize: 32, NoShuffle: true, Epochs: 1, Targets: TargetsNone, Transform: &tf, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	want := make([]float32, 3*1024)
	n := 0
	for {
		b, err := l.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for j := range b.N {
			img, _ := split.Read(b.Items[j], nil)
			if err := applyImage(tf, want, img.Pixels, nil); err != nil {
				t.Fatal(err)
			}
			for i, v := range want {
				if b.Images[j*3*1024+i] != v {
					t.Fatalf("%s: batch pixel %d differs from the transform", b.Keys[j], i)
				}
			}
			if b.Labels[j][0] != int32(train[b.Items[j]].Label) {
				t.Errorf("%s: label %d", b.Keys[j], b.Labels[j][0])
			}
			n++
		}
		b.Release()
	}
	if n != 24 {
		t.Errorf("loaded %d images, want 24", n)
	}
}

// applyImage transforms decoded pixels, as the loader does an Example
// with Pixels.
func applyImage(tf Transform, dst []float32, img image.Image, r *rand.Rand) error {
	return tf.apply(dst, Example{Pixels: img}, r, &scratch{})
}
