package plot

import (
	"image"
	"image/color"
	"math"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// legendPixels draws ch with and without its legend and returns the image
// without it and the bounding box of the pixels the legend changes.
func legendPixels(t *testing.T, ch chart, w, h int) (image.Image, image.Rectangle) {
	t.Helper()
	with := ch.canvas(w, h, false).Image()
	without := ch.canvas(w, h, true).Image()
	box := image.Rectangle{}
	b := with.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, _ := with.At(x, y).RGBA()
			r2, g2, b2, _ := without.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	if box.Empty() {
		t.Fatal("the legend changed no pixel")
	}
	return without, box
}

// seriesPixelsIn counts the pixels of the first n palette colors inside r.
func seriesPixelsIn(img image.Image, r image.Rectangle, n int) int {
	count := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			for _, c := range Palette[:n] {
				if sameColor(img.At(x, y), c) {
					count++
				}
			}
		}
	}
	return count
}

func sameColor(a, b color.Color) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	return near(r1, r2) && near(g1, g2) && near(b1, b2)
}

// TestLegendCoversNoData draws charts whose data fill the usual legend
// corner, or every corner, and checks in the pixels that the legend box
// (where the chart with a legend differs from the one without) holds no
// pixel of any series.
func TestLegendCoversNoData(t *testing.T) {
	steps := []float64{300, 600, 900, 1200, 1500}
	var zigX, zigY []float64
	for i := range 60 {
		zigX, zigY = append(zigX, float64(i)), append(zigY, float64(i%2))
	}
	tests := []struct {
		name  string
		chart LineChart
		// where the legend must end up: "inside" the data area or
		// "outside" (right of every series pixel)
		where string
	}{
		{"top line through the top right (pretraining evaluation)", LineChart{Title: "Held-out hashtag prediction", Series: []Series{
			{Name: "precision@1", X: steps, Y: []float64{0.40, 0.45, 0.468, 0.46, 0.43}, Points: true},
			{Name: "precision@5", X: steps, Y: []float64{0.164, 0.171, 0.174, 0.177, 0.178}, Points: true},
			{Name: "mAP", X: steps, Y: []float64{0.092, 0.103, 0.107, 0.109, 0.110}, Points: true},
		}}, "inside"},
		{"rising curve, legend asked at the bottom right", LineChart{LegendBottom: true, Series: []Series{
			{Name: "top-1", X: steps, Y: []float64{0.1, 0.3, 0.5, 0.6, 0.65}},
		}}, "inside"},
		{"lines through every corner", LineChart{Series: []Series{
			{Name: "rising", X: []float64{0, 1, 2, 3}, Y: []float64{0, 1, 2, 3}},
			{Name: "falling", X: []float64{0, 1, 2, 3}, Y: []float64{3, 2, 1, 0}},
		}}, "inside"},
		{"a zigzag over the whole area", LineChart{Series: []Series{
			{Name: "zigzag", X: zigX, Y: zigY},
			{Name: "level", X: []float64{0, 59}, Y: []float64{0.5, 0.5}, Dashed: true},
		}}, "outside"},
		{"a single point", LineChart{Series: []Series{
			{Name: "one", X: []float64{1}, Y: []float64{1}},
		}}, "inside"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := tc.chart.chart()
			if err != nil {
				t.Fatal(err)
			}
			img, box := legendPixels(t, ch, 600, 400)
			n := len(tc.chart.Series)
			if got := seriesPixelsIn(img, box, n); got != 0 {
				t.Errorf("legend box %v covers %d series pixels", box, got)
			}
			_, right := columnsWithAny(img, Palette[:n])
			area := dataArea(ch, 600, 400)
			switch {
			case tc.where == "inside" && !box.In(area):
				t.Errorf("legend box %v is not inside the data area %v", box, area)
			case tc.where == "outside" && box.Min.X <= right:
				t.Errorf("legend box %v starts left of the data's right edge %d", box, right)
			}
		})
	}
}

func TestBarLegendCoversNoBar(t *testing.T) {
	c := BarChart{Title: "Target task top-1 accuracy", Categories: []string{"linear", "full", "probe"},
		Groups: []BarGroup{{Name: "pretrained on hashtags", Values: []float64{32.5, 25.5, 40}}, {Name: "from scratch", Values: []float64{20.7, 23.7, 39}}}}
	ch, err := c.chart()
	if err != nil {
		t.Fatal(err)
	}
	img, box := legendPixels(t, ch, 600, 400)
	if got := seriesPixelsIn(img, box, 2); got != 0 {
		t.Errorf("legend box %v covers %d bar pixels", box, got)
	}
}

// dataArea returns the pixels of the data area of ch drawn at w×h, with no
// room given to a legend.
func dataArea(ch chart, w, h int) image.Rectangle {
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w)*vg.Inch/dpi, vg.Length(h)*vg.Inch/dpi), vgimg.UseDPI(dpi))
	dc := ch.p.DataCanvas(draw.New(c))
	px := func(l vg.Length) int { return int(math.Round(float64(l) * dpi / 72)) }
	return image.Rect(px(dc.Min.X), h-px(dc.Max.Y), px(dc.Max.X), h-px(dc.Min.Y))
}

// columnsWithAny returns the leftmost and rightmost x holding any of cs.
func columnsWithAny(img image.Image, cs []color.Color) (lo, hi int) {
	lo, hi = math.MaxInt, -1
	for _, c := range cs {
		l, h := columnsWith(img, c)
		lo, hi = min(lo, l), max(hi, h)
	}
	return lo, hi
}

func TestSegmentHits(t *testing.T) {
	r := vg.Rectangle{Min: vg.Point{X: 10, Y: 10}, Max: vg.Point{X: 20, Y: 20}}
	tests := []struct {
		a, b vg.Point
		want bool
	}{
		{vg.Point{X: 0, Y: 0}, vg.Point{X: 30, Y: 30}, true},  // through the middle
		{vg.Point{X: 0, Y: 15}, vg.Point{X: 5, Y: 15}, false}, // stops short
		{vg.Point{X: 0, Y: 25}, vg.Point{X: 30, Y: 25}, false},
		{vg.Point{X: 15, Y: 0}, vg.Point{X: 15, Y: 30}, true}, // vertical
		{vg.Point{X: 0, Y: 21}, vg.Point{X: 21, Y: 0}, true},  // clips the corner
		{vg.Point{X: 0, Y: 19}, vg.Point{X: 9, Y: 28}, false}, // passes the corner
	}
	for _, tc := range tests {
		if got := segmentHits(tc.a, tc.b, r); got != tc.want {
			t.Errorf("segmentHits(%v, %v): got %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
