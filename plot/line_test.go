package plot

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func decodePNG(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode png: %v", err)
	}
	return img
}

// colored counts the pixels within a small distance of c.
func colored(img image.Image, c color.Color) int {
	wr, wg, wb, _ := c.RGBA()
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, wr) && near(g, wg) && near(bl, wb) {
				n++
			}
		}
	}
	return n
}

func near(a, b uint32) bool {
	d := int(a>>8) - int(b>>8)
	return d > -24 && d < 24
}

// columnsWith returns the leftmost and rightmost x holding color c.
func columnsWith(img image.Image, c color.Color) (lo, hi int) {
	wr, wg, wb, _ := c.RGBA()
	b := img.Bounds()
	lo, hi = b.Max.X, -1
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, wr) && near(g, wg) && near(bl, wb) {
				lo, hi = min(lo, x), max(hi, x)
			}
		}
	}
	return lo, hi
}

func TestLineChartDrawsEachSeriesInItsColor(t *testing.T) {
	xs := []float64{0, 1, 2, 3, 4}
	c := LineChart{Title: "loss", XLabel: "step", YLabel: "loss", Width: 400, Height: 300, Series: []Series{
		{Name: "train", X: xs, Y: []float64{5, 4, 3, 2, 1}},
		{Name: "val", X: xs, Y: []float64{5, 4.5, 4, 3.5, 3}, Points: true},
	}}
	data, err := c.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, data)
	if got := img.Bounds().Size(); got != (image.Point{400, 300}) {
		t.Fatalf("size %v, want 400x300", got)
	}
	for i := range c.Series {
		if n := colored(img, Palette[i]); n < 50 {
			t.Errorf("series %d: %d pixels of its color, want a drawn line", i, n)
		}
	}
	if n := colored(img, Palette[2]); n > 0 {
		t.Errorf("%d pixels of an unused series color", n)
	}
}

func TestLineChartLeavesOutUndrawablePoints(t *testing.T) {
	// A log-x chart with x = 0 and a NaN: those points are left out and
	// the remaining ones still span the plot.
	c := LineChart{Title: "scale", LogX: true, Width: 400, Height: 300, Series: []Series{
		{Name: "top-1", X: []float64{0, 1e3, 1e4, 1e5, 1e6}, Y: []float64{0.1, 0.2, math.NaN(), 0.4, 0.5}},
	}}
	data, err := c.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, data)
	lo, hi := columnsWith(img, Palette[0])
	if hi-lo < 200 {
		t.Errorf("line spans x %d..%d, want most of the 400 px width", lo, hi)
	}
	// Nothing drawable at all still renders.
	empty := LineChart{Title: "empty", LogY: true, Series: []Series{{Name: "a", X: []float64{1}, Y: []float64{-1}}}}
	if _, err := empty.PNG(); err != nil {
		t.Errorf("empty chart: %v", err)
	}
}

func TestLineChartErrors(t *testing.T) {
	c := LineChart{Title: "bad", Series: []Series{{Name: "a", X: []float64{1, 2}, Y: []float64{1}}}}
	if _, err := c.PNG(); err == nil {
		t.Error("mismatched x and y lengths: no error")
	}
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ok := LineChart{Series: []Series{{X: []float64{1, 2}, Y: []float64{1, 2}}}}
	if err := ok.Save(filepath.Join(blocker, "x.png")); err == nil {
		t.Error("save under a file: no error")
	}
	path := filepath.Join(dir, "sub", "ok.png")
	if err := ok.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	decodePNG(t, data)
	left, _ := filepath.Glob(filepath.Join(dir, "sub", ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A scatter series draws its markers without the line between them: far
// fewer pixels of its color than the same series drawn as a line.
func TestLineChartNoLineDrawsMarkersOnly(t *testing.T) {
	xs, ys := []float64{0, 10}, []float64{0, 10}
	count := func(noLine bool) int {
		c := LineChart{Title: "scatter", Width: 400, Height: 300, Series: []Series{{Name: "tags", X: xs, Y: ys, Points: true, NoLine: noLine}}}
		data, err := c.PNG()
		if err != nil {
			t.Fatal(err)
		}
		return colored(decodePNG(t, data), Palette[0])
	}
	line, scatter := count(false), count(true)
	if scatter == 0 || scatter*3 > line {
		t.Errorf("scatter draws %d pixels of its color, the line %d: want markers only (a few, under a third)", scatter, line)
	}
}
