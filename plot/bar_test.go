package plot

import (
	"image"
	"testing"
)

// barHeight returns the tallest run of color c in any column.
func barHeight(img image.Image, i int) int {
	wr, wg, wb, _ := Palette[i].RGBA()
	b := img.Bounds()
	best := 0
	for x := b.Min.X; x < b.Max.X; x++ {
		run := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, wr) && near(g, wg) && near(bl, wb) {
				run++
				best = max(best, run)
			} else {
				run = 0
			}
		}
	}
	return best
}

func TestBarChartHeightsFollowValues(t *testing.T) {
	tests := []struct {
		name    string
		a, b    float64
		aHigher bool
	}{
		{"first group higher", 0.9, 0.3, true},
		{"second group higher", 0.2, 0.8, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := BarChart{Title: "top-1", YLabel: "accuracy", Width: 400, Height: 300,
				Categories: []string{"imagenet", "cub"},
				Groups: []BarGroup{
					{Name: "scratch", Values: []float64{tt.a, tt.a}},
					{Name: "pretrained", Values: []float64{tt.b, tt.b}},
				}}
			data, err := c.PNG()
			if err != nil {
				t.Fatal(err)
			}
			img := decodePNG(t, data)
			ha, hb := barHeight(img, 0), barHeight(img, 1)
			if got := ha > hb; got != tt.aHigher {
				t.Errorf("bar heights %d and %d for values %v and %v", ha, hb, tt.a, tt.b)
			}
		})
	}
}

func TestBarChartErrors(t *testing.T) {
	c := BarChart{Categories: []string{"a", "b"}, Groups: []BarGroup{{Name: "g", Values: []float64{1}}}}
	if _, err := c.PNG(); err == nil {
		t.Error("one value for two categories: no error")
	}
	if _, err := (BarChart{Title: "empty"}).PNG(); err != nil {
		t.Errorf("empty chart: %v", err)
	}
}
