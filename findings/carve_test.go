package findings

import (
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"weaksup/datasets"
)

// The carved split holds the target's training images only, a fraction of
// each class as val, as an image folder with the task's class order.
func TestCarveValidation(t *testing.T) {
	src := t.TempDir()
	for _, class := range []string{"b", "a"} {
		for i := range 5 {
			for _, split := range []string{"train", "val"} {
				d := filepath.Join(src, split, class)
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				f, err := os.Create(filepath.Join(d, string(rune('0'+i))+".jpg"))
				if err != nil {
					t.Fatal(err)
				}
				if err := jpeg.Encode(f, image.NewRGBA(image.Rect(0, 0, 8, 8)), nil); err != nil {
					t.Fatal(err)
				}
				f.Close()
			}
		}
	}
	out := filepath.Join(t.TempDir(), "carved")
	if err := carveValidation(datasets.ImageFolder, src, 0.3, 1, out); err != nil {
		t.Fatal(err)
	}
	ds, err := datasets.Open(datasets.ImageFolder, out, datasets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(ds.Classes()); got != 2 {
		t.Fatalf("%d classes, want 2", got)
	}
	for split, want := range map[string]int{"train": 8, "val": 2} {
		s, err := ds.Split(split)
		if err != nil {
			t.Fatal(err)
		}
		if s.Len() != want {
			t.Errorf("%s: %d images, want %d", split, s.Len(), want)
		}
		for i := range s.Len() {
			p, err := filepath.EvalSymlinks(s.Where(i))
			if err != nil {
				t.Fatal(err)
			}
			if rel, _ := filepath.Rel(src, p); filepath.Dir(filepath.Dir(rel)) != "train" {
				t.Errorf("%s image %s comes from %s, want the source's train split", split, s.Where(i), rel)
			}
		}
	}
}
