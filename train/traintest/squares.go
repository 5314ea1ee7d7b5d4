// Package traintest is what the tests of the training packages share: a
// generated, learnable image set (Squares) served through the real loader,
// and the same images written as a shard directory.
package traintest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"

	"weaksup/loader"
)

// Squares is a generated, learnable multi-label set: each image is gray
// noise with one to three labels, and label c paints a square of color c
// somewhere in it. It is a loader.Source, so the real loader decodes,
// augments and batches it.
type Squares struct {
	classes int
	images  [][]byte
	labels  [][]int32
}

var _ loader.Source = (*Squares)(nil)

// squareColors holds one saturated color per class.
var squareColors = []color.RGBA{
	{230, 25, 25, 255}, {25, 200, 25, 255}, {25, 25, 230, 255}, {230, 230, 25, 255},
	{230, 25, 230, 255}, {25, 230, 230, 255}, {255, 140, 0, 255}, {120, 60, 20, 255},
}

// NewSquares generates n PNG images of side px with k ≤ 8 classes from
// seed.
func NewSquares(n, k, px int, seed uint64) *Squares {
	r := rand.New(rand.NewPCG(seed, 99))
	s := &Squares{classes: k}
	side := px * 3 / 8
	for i := 0; i < n; i++ {
		img := image.NewRGBA(image.Rect(0, 0, px, px))
		for p := 0; p < len(img.Pix); p += 4 {
			v := uint8(100 + r.IntN(56))
			img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = v, v, v, 255
		}
		perm := r.Perm(k)[:1+r.IntN(3)]
		var ls []int32
		for _, c := range perm {
			ls = append(ls, int32(c))
			x0, y0 := r.IntN(px-side+1), r.IntN(px-side+1)
			for y := y0; y < y0+side; y++ {
				for x := x0; x < x0+side; x++ {
					img.SetRGBA(x, y, squareColors[c])
				}
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			panic(err) // encoding to memory cannot fail
		}
		s.images = append(s.images, buf.Bytes())
		s.labels = append(s.labels, ls)
	}
	return s
}

func (s *Squares) Len() int        { return len(s.images) }
func (s *Squares) NumClasses() int { return s.classes }

func (s *Squares) Blocks() []int {
	b := make([]int, len(s.images))
	for i := range b {
		b[i] = 1
	}
	return b
}

func (s *Squares) Labels(i int) ([]int32, error) { return s.labels[i], nil }

func (s *Squares) Example(i int, buf []byte) (loader.Example, error) {
	if i < 0 || i >= len(s.images) {
		return loader.Example{}, fmt.Errorf("item %d of %d", i, len(s.images))
	}
	return loader.Example{Key: fmt.Sprint(i), Image: append(buf[:0], s.images[i]...), Labels: s.labels[i]}, nil
}

// Loaders returns the openers of loaders over generated train and held-out
// sets for the rank-th of world processes: mild random crops and flips for
// training, the whole image in order for evaluation.
func Loaders(train, val *Squares, batch, px int, seed uint64) (
	openTrain func(rank, world int, resume *loader.Position) (*loader.Loader, error),
	openVal func(rank, world int) (*loader.Loader, error)) {
	tf := loader.NewTransform(px, true)
	tf.Scale = [2]float64{0.6, 1}
	ef := loader.NewTransform(px, false)
	ef.CropFraction = 1
	openTrain = func(rank, world int, resume *loader.Position) (*loader.Loader, error) {
		return loader.New(train, loader.Config{Batch: batch, ImageSize: px, Train: true, Seed: seed,
			DropLast: true, Transform: &tf, Resume: resume, Workers: 2, Targets: loader.TargetsNone, Rank: rank, World: world})
	}
	openVal = func(rank, world int) (*loader.Loader, error) {
		return loader.New(val, loader.Config{Batch: 64, ImageSize: px, Seed: seed, NoShuffle: true,
			Epochs: 1, Transform: &ef, Workers: 2, Targets: loader.TargetsNone, Rank: rank, World: world})
	}
	return openTrain, openVal
}

// LabelSets returns every image's labels.
func (s *Squares) LabelSets() [][]int32 { return s.labels }

// JPEG returns the same set re-encoded as JPEG at quality 90 (the format
// shards hold) and declaring k classes (k ≥ the generated classes: a wider
// head over the same images).
func (s *Squares) JPEG(k int) (*Squares, error) {
	out := &Squares{classes: max(k, s.classes), labels: s.labels}
	for i, data := range s.images {
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("decode square %d: %w", i, err)
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			return nil, fmt.Errorf("encode square %d: %w", i, err)
		}
		out.images = append(out.images, buf.Bytes())
	}
	return out, nil
}
