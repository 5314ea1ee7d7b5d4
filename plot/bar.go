package plot

import (
	"fmt"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
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
	p := newPlot(c.Title, c.XLabel, c.YLabel)
	n := len(c.Groups)
	if n == 0 || len(c.Categories) == 0 {
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
		return renderPNG(p, c.Width, c.Height)
	}
	w := c.Width
	if w <= 0 {
		w = DefaultWidth
	}
	// Bars fill about 70% of each category's slot.
	slot := vg.Length(w) * vg.Inch / dpi * 0.7 / vg.Length(len(c.Categories))
	bw := slot / vg.Length(n)
	for i, g := range c.Groups {
		if len(g.Values) != len(c.Categories) {
			return nil, fmt.Errorf("draw %q: group %q has %d values for %d categories", c.Title, g.Name, len(g.Values), len(c.Categories))
		}
		vals := make(plotter.Values, len(g.Values))
		for j, v := range g.Values {
			if finite(v, false) {
				vals[j] = v
			}
		}
		bars, err := plotter.NewBarChart(vals, bw)
		if err != nil {
			return nil, fmt.Errorf("draw %q: group %q: %w", c.Title, g.Name, err)
		}
		bars.Color = colorOf(i)
		bars.LineStyle.Width = 0
		bars.Offset = (vg.Length(i) - vg.Length(n-1)/2) * bw
		p.Add(bars)
		if g.Name != "" {
			p.Legend.Add(g.Name, bars)
		}
	}
	p.NominalX(c.Categories...)
	return renderPNG(p, c.Width, c.Height)
}

// Save renders the chart and writes it to path atomically.
func (c BarChart) Save(path string) error {
	data, err := c.PNG()
	if err != nil {
		return fmt.Errorf("save chart %s: %w", path, err)
	}
	return writeFile(path, data)
}
