package demo

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestContactSheet(t *testing.T) {
	w := quickWorld(t)
	path := filepath.Join(t.TempDir(), "sheet.png")
	if err := ContactSheet(w, path, 6, 8); err != nil {
		t.Fatalf("contact sheet: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode sheet: %v", err)
	}
	// 130 px of labels, 8 tiles of 64 px with 2 px gaps; 6 rows.
	if got, want := img.Bounds().Size().X, 130+8*66+2; got != want {
		t.Errorf("width %d, want %d", got, want)
	}
	if got, want := img.Bounds().Size().Y, 6*66+2; got != want {
		t.Errorf("height %d, want %d", got, want)
	}
	if err := ContactSheet(w, path, 0, 8); err == nil {
		t.Errorf("0 concepts: got nil error")
	}
}
