package dedup

import (
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// testPhotos decodes the photographs under testdata/photos, by file name.
func testPhotos(t testing.TB) map[string]image.Image {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "photos", "*.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 8 {
		t.Fatalf("found %d photos under testdata/photos, want at least 8", len(paths))
	}
	out := make(map[string]image.Image, len(paths))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("decode %s: %v", p, err)
		}
		out[filepath.Base(p)] = img
	}
	return out
}
