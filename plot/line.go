package plot

import (
	"fmt"

	gonum "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one named curve: Y[i] at X[i].
type Series struct {
	Name string
	X, Y []float64
	// Points draws a marker at each point (for sparse series such as one
	// evaluation per epoch); Dashed draws the line dashed.
	Points bool
	Dashed bool
}

// LineChart is a chart of one or more series sharing axes.
type LineChart struct {
	Title, XLabel, YLabel string
	Series                []Series
	// LogX and LogY use a base-10 log scale on the axis (data-scale
	// experiments plot against the number of images on a log x axis).
	LogX, LogY bool
	// LegendBottom and LegendLeft move the legend from the top right
	// (rising curves read better with it at the bottom right).
	LegendBottom, LegendLeft bool
	// Width and Height are in pixels (DefaultWidth × DefaultHeight when 0).
	Width, Height int
}

// PNG renders the chart.
func (c LineChart) PNG() ([]byte, error) {
	p := newPlot(c.Title, c.XLabel, c.YLabel)
	p.Legend.Top, p.Legend.Left = !c.LegendBottom, c.LegendLeft
	if c.LogX {
		p.X.Scale = gonum.LogScale{}
		p.X.Tick.Marker = gonum.LogTicks{Prec: -1}
	}
	if c.LogY {
		p.Y.Scale = gonum.LogScale{}
		p.Y.Tick.Marker = gonum.LogTicks{Prec: -1}
	}
	drawn := 0
	for i, s := range c.Series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("draw %q: series %q has %d x values and %d y values", c.Title, s.Name, len(s.X), len(s.Y))
		}
		var xys plotter.XYs
		for j := range s.X {
			if finite(s.X[j], c.LogX) && finite(s.Y[j], c.LogY) {
				xys = append(xys, plotter.XY{X: s.X[j], Y: s.Y[j]})
			}
		}
		if len(xys) == 0 {
			continue
		}
		drawn++
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("draw %q: series %q: %w", c.Title, s.Name, err)
		}
		line.Color = colorOf(i)
		line.Width = vg.Points(1.5)
		if s.Dashed {
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(line)
		if s.Points || len(xys) == 1 {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, fmt.Errorf("draw %q: series %q: %w", c.Title, s.Name, err)
			}
			sc.Color = colorOf(i)
			sc.Shape = draw.CircleGlyph{}
			sc.Radius = vg.Points(2.5)
			p.Add(sc)
			if s.Name != "" {
				p.Legend.Add(s.Name, line, sc)
			}
		} else if s.Name != "" {
			p.Legend.Add(s.Name, line)
		}
	}
	if drawn == 0 {
		// Axes with nothing on them still need a valid range.
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 1, 10, 1, 10
	}
	return renderPNG(p, c.Width, c.Height)
}

// Save renders the chart and writes it to path atomically.
func (c LineChart) Save(path string) error {
	data, err := c.PNG()
	if err != nil {
		return fmt.Errorf("save chart %s: %w", path, err)
	}
	return writeFile(path, data)
}
