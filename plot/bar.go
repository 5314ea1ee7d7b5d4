package plot

import (
	"fmt"

	gonum "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BarGroup is one named set of bars, one value per category, drawn in one
// color.
type BarGroup struct {
	Name   string
	Values []float64
}

// BarChart is a grouped bar chart: for each category along the x axis, one
// bar per group side by side.
type BarChart struct {
	Title, XLabel, YLabel string
	Categories            []string
	Groups                []BarGroup
	// Width and Height are in pixels (DefaultWidth × DefaultHeight when 0).
	Width, Height int
}

// PNG renders the chart. Non-finite values draw as empty bars.
func (c BarChart) PNG() ([]byte, error) {
	ch, err := c.chart()
	if err != nil {
		return nil, err
	}
	return renderPNG(ch, c.Width, c.Height)
}

func (c BarChart) chart() (chart, error) {
	p := newPlot(c.Title, c.XLabel, c.YLabel)
	n := len(c.Groups)
	if n == 0 || len(c.Categories) == 0 {
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		return chart{p: p}, nil
	}
	w := c.Width
	if w <= 0 {
		w = DefaultWidth
	}
	// Bars fill about 70% of each category's slot.
	slot := vg.Length(w) * vg.Inch / dpi * 0.7 / vg.Length(len(c.Categories))
	bw := slot / vg.Length(n)
	var bars []*plotter.BarChart
	for i, g := range c.Groups {
		if len(g.Values) != len(c.Categories) {
			return chart{}, fmt.Errorf("draw %q: group %q has %d values for %d categories", c.Title, g.Name, len(g.Values), len(c.Categories))
		}
		vals := make(plotter.Values, len(g.Values))
		for j, v := range g.Values {
			if finite(v, false) {
				vals[j] = v
			}
		}
		group, err := plotter.NewBarChart(vals, bw)
		if err != nil {
			return chart{}, fmt.Errorf("draw %q: group %q: %w", c.Title, g.Name, err)
		}
		group.Color = colorOf(i)
		group.LineStyle.Width = 0
		group.Offset = (vg.Length(i) - vg.Length(n-1)/2) * bw
		p.Add(group)
		bars = append(bars, group)
		if g.Name != "" {
			p.Legend.Add(g.Name, group)
		}
	}
	p.NominalX(c.Categories...)
	return chart{p: p, shapes: barShapes(bars), prefer: corner{top: true}}, nil
}

// barShapes returns the rectangles of the bars as plotter.BarChart draws
// them.
func barShapes(groups []*plotter.BarChart) func(*gonum.Plot, draw.Canvas) []shape {
	return func(p *gonum.Plot, dc draw.Canvas) []shape {
		trX, trY := p.Transforms(&dc)
		var out []shape
		for _, b := range groups {
			for i, v := range b.Values {
				x := trX(b.XMin+float64(i)) - b.Width/2 + b.Offset
				y0, y1 := trY(0), trY(v)
				out = append(out, shape{box: &vg.Rectangle{
					Min: vg.Point{X: x, Y: min(y0, y1)},
					Max: vg.Point{X: x + b.Width, Y: max(y0, y1)},
				}})
			}
		}
		return out
	}
}

// Save renders the chart and writes it to path atomically.
func (c BarChart) Save(path string) error {
	data, err := c.PNG()
	if err != nil {
		return fmt.Errorf("save chart %s: %w", path, err)
	}
	return writeFile(path, data)
}
