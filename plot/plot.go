package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"weaksup/atomicfile"

	gonum "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Default image size in pixels.
const (
	DefaultWidth  = 800
	DefaultHeight = 500
)

// dpi is the resolution charts are rendered at; sizes in pixels convert
// through it.
const dpi = 96

// Palette is the order in which series and bar groups are colored
// (Okabe–Ito, readable with color-vision deficiencies).
var Palette = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{0, 158, 115, 255},   // bluish green
	color.RGBA{204, 121, 167, 255}, // reddish purple
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{86, 180, 233, 255},  // sky blue
	color.RGBA{240, 228, 66, 255},  // yellow
	color.RGBA{0, 0, 0, 255},       // black
}

// colorOf returns the i-th palette color, cycling.
func colorOf(i int) color.Color { return Palette[i%len(Palette)] }

// finite reports whether v can be drawn on an axis (log axes need v > 0).
func finite(v float64, log bool) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	return !log || v > 0
}

// renderPNG draws ch into a PNG of w×h pixels (defaults when ≤ 0).
func renderPNG(ch chart, w, h int) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: ch.canvas(w, h, false)}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// canvas draws ch on a new w×h pixel canvas (defaults when ≤ 0), without
// its legend when noLegend.
func (ch chart) canvas(w, h int, noLegend bool) *vgimg.Canvas {
	if w <= 0 {
		w = DefaultWidth
	}
	if h <= 0 {
		h = DefaultHeight
	}
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w)*vg.Inch/dpi, vg.Length(h)*vg.Inch/dpi), vgimg.UseDPI(dpi))
	ch.draw(draw.New(c), noLegend)
	return c
}

// newPlot returns a plot with a title, axis labels and a grid. Its legend
// goes where chart.draw finds room.
func newPlot(title, xlabel, ylabel string) *gonum.Plot {
	p := gonum.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = font.Length(14)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	return p
}

// writeFile writes data to path atomically, creating the directory.
func writeFile(path string, data []byte) error { return atomicfile.WriteFile(path, data) }
