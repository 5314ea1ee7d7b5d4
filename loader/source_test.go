package loader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"weaksup/datasets"
	"weaksup/internal/testkit"
)

func TestSplitSourceLoader(t *testing.T) {
	dir := t.TempDir()
	var items datasets.Files
	for i := range 23 {
		path := filepath.Join(dir, fmt.Sprintf("img%02d", i))
		if i%5 == 0 { // some PNGs, as image folders may hold
			img := image.NewGray(image.Rect(0, 0, 20, 30))
			for k := range img.Pix {
				img.Pix[k] = uint8(10 * i)
			}
			f, err := os.Create(path + ".png")
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			f.Close()
			path += ".png"
		} else {
			path += ".jpg"
			if err := os.WriteFile(path, testkit.PhotoJPEG(t, uint64(i), 40, 30, 85), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		items = append(items, datasets.Item{Path: path, Class: int32(i % 4)})
	}
	src, err := NewSplitSource(items, 4)
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(src, Config{Batch: 5, ImageSize: 16, Train: true, Targets: TargetsNone, Epochs: 1, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := drain(t, l, -1)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
	got := slices.Sorted(slices.Values(s.items))
	if len(got) != len(items) || got[0] != 0 || got[len(got)-1] != len(items)-1 || len(slices.Compact(got)) != len(items) {
		t.Errorf("items %v, want each of %d once", got, len(items))
	}
	for i, it := range s.items {
		if want := []int32{items[it].Class}; !slices.Equal(s.labels[i], want) {
			t.Errorf("item %d labels %v, want %v", it, s.labels[i], want)
		}
		if s.keys[i] != items[it].Path {
			t.Errorf("item %d key %q, want its path", it, s.keys[i])
		}
	}
	// A gray PNG decodes to equal channels.
	for i, it := range s.items {
		if it%5 == 0 {
			img := s.images[i]
			n := 16 * 16
			r := img[0]*ImageNetStd[0] + ImageNetMean[0]
			g := img[n]*ImageNetStd[1] + ImageNetMean[1]
			if d := r - g; d > 1e-4 || d < -1e-4 {
				t.Errorf("gray PNG item %d: red %g green %g differ", it, r, g)
			}
		}
	}
}

func TestSplitSourceErrors(t *testing.T) {
	if _, err := NewSplitSource(datasets.Files{{Path: "a.jpg", Class: 4}}, 4); err == nil || !strings.Contains(err.Error(), "a.jpg") {
		t.Errorf("class out of range: err = %v, want an error naming a.jpg", err)
	}
	src, err := NewSplitSource(datasets.Files{{Path: filepath.Join(t.TempDir(), "missing.jpg"), Class: 0}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(src, Config{Batch: 1, ImageSize: 8, Epochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Next(context.Background()); err == nil || !strings.Contains(err.Error(), "missing.jpg") {
		t.Errorf("missing file: err = %v, want an error naming missing.jpg", err)
	}
}

// memSource holds decoded images in memory, as sources of raw-pixel
// datasets (CIFAR's binary batches) do; encoded makes it hand out the same
// images as PNG bytes instead.
type memSource struct {
	imgs    []image.Image
	encoded bool
}

func (s memSource) Len() int        { return len(s.imgs) }
func (s memSource) NumClasses() int { return 3 }
func (s memSource) Blocks() []int {
	b := make([]int, len(s.imgs))
	for i := range b {
		b[i] = 1
	}
	return b
}
func (s memSource) Labels(i int) ([]int32, error) { return []int32{int32(i % 3)}, nil }
func (s memSource) Example(i int, buf []byte) (Example, error) {
	ex := Example{Key: fmt.Sprint(i), Labels: []int32{int32(i % 3)}}
	if !s.encoded {
		ex.Pixels = s.imgs[i]
		return ex, nil
	}
	var b bytes.Buffer
	if err := png.Encode(&b, s.imgs[i]); err != nil {
		return Example{}, err
	}
	ex.Image = b.Bytes()
	return ex, nil
}

// TestPixelsSource loads images a source holds as pixels and the same
// images as lossless PNGs: the batches must be identical.
func TestPixelsSource(t *testing.T) {
	var imgs []image.Image
	for i := range 9 {
		var img draw.Image
		switch i % 3 {
		case 0:
			img = image.NewNRGBA(image.Rect(0, 0, 32, 32))
		case 1:
			img = image.NewRGBA(image.Rect(0, 0, 32, 24))
		default:
			img = image.NewGray(image.Rect(0, 0, 20, 32))
		}
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				img.Set(x, y, color.NRGBA{uint8(x*7 + i*20), uint8(y * 8), uint8((x + y) * 4), 255})
			}
		}
		imgs = append(imgs, img)
	}
	var got [2]seen
	for k, encoded := range []bool{false, true} {
		l, err := New(memSource{imgs, encoded}, Config{Batch: 4, ImageSize: 16, Train: true, Seed: 3, Epochs: 2, Targets: TargetsNone, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if got[k], err = drain(t, l, -1); !errors.Is(err, io.EOF) {
			t.Fatalf("encoded=%v: Next = %v, want io.EOF", encoded, err)
		}
		l.Close()
	}
	if !slices.Equal(got[0].items, got[1].items) || len(got[0].items) != 18 {
		t.Fatalf("items %v and %v, want the same 18", got[0].items, got[1].items)
	}
	for i := range got[0].images {
		if !slices.Equal(got[0].images[i], got[1].images[i]) {
			t.Errorf("item %d (%T): pixels and PNG give different images", got[0].items[i], imgs[got[0].items[i]])
		}
	}
}
