package testkit

import (
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// Photos decodes the JPEG photographs (*.jpg) under dir, by file name. It
// fails the test when dir holds fewer than 8: the near-duplicate tests of
// dedup, phash and thumbnail share dedup/testdata/photos.
func Photos(tb testing.TB, dir string) map[string]image.Image {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(paths) < 8 {
		tb.Fatalf("found %d photos under %s, want at least 8", len(paths), dir)
	}
	out := make(map[string]image.Image, len(paths))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		img, err := jpeg.Decode(f)
		f.Close()
		if err != nil {
			tb.Fatalf("decode %s: %v", p, err)
		}
		out[filepath.Base(p)] = img
	}
	return out
}
