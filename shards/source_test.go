package shards

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFileSourceLoader(t *testing.T) {
	dir := t.TempDir()
	var items []FileItem
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
			if err := os.WriteFile(path, testJPEG(t, uint64(i), 40, 30, 85), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		items = append(items, FileItem{Path: path, Class: int32(i % 4)})
	}
	src, err := NewFileSource(items, 4)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLoader(src, LoaderConfig{Batch: 5, ImageSize: 16, Train: true, Targets: TargetsNone, Epochs: 1, Seed: 2})
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

func TestFileSourceErrors(t *testing.T) {
	if _, err := NewFileSource([]FileItem{{Path: "a.jpg", Class: 4}}, 4); err == nil || !strings.Contains(err.Error(), "a.jpg") {
		t.Errorf("class out of range: err = %v, want an error naming a.jpg", err)
	}
	src, err := NewFileSource([]FileItem{{Path: filepath.Join(t.TempDir(), "missing.jpg"), Class: 0}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLoader(src, LoaderConfig{Batch: 1, ImageSize: 8, Epochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Next(context.Background()); err == nil || !strings.Contains(err.Error(), "missing.jpg") {
		t.Errorf("missing file: err = %v, want an error naming missing.jpg", err)
	}
}
