package plot

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// render draws counts and decodes the PNG.
func render(t *testing.T, counts [][]int64, names []string) image.Image {
	t.Helper()
	path := filepath.Join(t.TempDir(), "confusion.png")
	if err := (ConfusionMatrix{Counts: counts, Names: names, Title: "test"}).Save(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

// dark reports a cell colour of at least half the scale: blue well above
// red. Text and axes are grey (r≈g≈b), so they do not count.
func dark(img image.Image, x, y int) bool {
	r, _, b, _ := img.At(x, y).RGBA()
	r, b = r>>8, b>>8
	return r < 140 && b > r+50
}

func identity(k int) [][]int64 {
	m := make([][]int64, k)
	for i := range m {
		m[i] = make([]int64, k)
		m[i][i] = 1
	}
	return m
}

// darkQuadrants renders counts and reports which quadrants of the heat map
// hold dark cells: [top-left, top-right, bottom-left, bottom-right]. The
// heat map's extent is the bounding box of the dark pixels of the identity
// matrix drawn at the same size.
func darkQuadrants(t *testing.T, counts [][]int64, names []string) [4]bool {
	t.Helper()
	ref := render(t, identity(len(counts)), names)
	box := image.Rectangle{Min: image.Pt(1<<30, 1<<30)}
	bd := ref.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			if dark(ref, x, y) {
				box.Min.X, box.Min.Y = min(box.Min.X, x), min(box.Min.Y, y)
				box.Max.X, box.Max.Y = max(box.Max.X, x+1), max(box.Max.Y, y+1)
			}
		}
	}
	if box.Empty() {
		t.Fatal("identity matrix: no dark cells drawn")
	}
	img := render(t, counts, names)
	if img.Bounds() != bd {
		t.Fatalf("image size %v differs from the reference %v", img.Bounds(), bd)
	}
	mid := image.Pt((box.Min.X+box.Max.X)/2, (box.Min.Y+box.Max.Y)/2)
	var q [4]bool
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			if dark(img, x, y) {
				i := 0
				if x >= mid.X {
					i++
				}
				if y >= mid.Y {
					i += 2
				}
				q[i] = true
			}
		}
	}
	return q
}

func TestSaveConfusionOrientation(t *testing.T) {
	cases := []struct {
		name   string
		counts [][]int64
		want   [4]bool
	}{
		// The diagonal runs from top-left to bottom-right.
		{"diagonal", [][]int64{{9, 0, 0, 0}, {0, 7, 0, 0}, {0, 0, 5, 0}, {0, 0, 0, 3}}, [4]bool{true, false, false, true}},
		// Everything predicted as class 0: the left column, all rows.
		{"all predicted 0", [][]int64{{4, 0, 0, 0}, {4, 0, 0, 0}, {4, 0, 0, 0}, {4, 0, 0, 0}}, [4]bool{true, false, true, false}},
		// Rows normalize: class 0's 1 image counts as much as class 3's 100.
		{"rows normalized", [][]int64{{0, 0, 0, 1}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 100}}, [4]bool{false, true, false, true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := darkQuadrants(t, tc.counts, []string{"a", "b", "c", "d"}); got != tc.want {
				t.Errorf("dark quadrants [TL TR BL BR]: got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSaveConfusionManyClasses(t *testing.T) {
	k := 200
	counts := make([][]int64, k)
	for i := range counts {
		counts[i] = make([]int64, k)
		counts[i][i] = 3
		counts[i][(i+1)%k] = 1
	}
	if got, want := darkQuadrants(t, counts, nil), [4]bool{true, false, false, true}; got != want {
		t.Errorf("200-class diagonal, dark quadrants: got %v, want %v", got, want)
	}
}

func TestSaveConfusionRejectsBadMatrices(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		m    ConfusionMatrix
	}{
		{"empty", ConfusionMatrix{}},
		{"ragged", ConfusionMatrix{Counts: [][]int64{{1, 2}, {3}}}},
		{"names", ConfusionMatrix{Counts: [][]int64{{1, 2}, {3, 4}}, Names: []string{"a"}}},
	}
	for _, tc := range cases {
		path := filepath.Join(dir, tc.name+".png")
		if err := tc.m.Save(path); err == nil {
			t.Errorf("%s: got no error", tc.name)
		}
		if _, err := os.Stat(path); err == nil {
			t.Errorf("%s: wrote %s despite the error", tc.name, path)
		}
	}
}
