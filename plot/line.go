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
	// NoLine draws the markers alone: a scatter plot.
	NoLine bool
}

// LineChart is a chart of one or more series sharing axes.
type LineChart struct {
	Title, XLabel, YLabel string
	Series                []Series
	// LogX and LogY use a base-10 log scale on the axis (data-scale
	// experiments plot against the number of images on a log x axis).
	LogX, LogY bool
	// LegendBottom and LegendLeft choose the corner the legend tries
	// first instead of the top right; wherever it would cover data it
	// takes another corner, or the side of the plot.
	LegendBottom, LegendLeft bool
	// Width and Height are in pixels (DefaultWidth × DefaultHeight when 0).
	Width, Height int
}

// PNG renders the chart.
func (c LineChart) PNG() ([]byte, error) {
	ch, err := c.chart()
	if err != nil {
		return nil, err
	}
	return renderPNG(ch, c.Width, c.Height)
}

func (c LineChart) chart() (chart, error) {
	p := newPlot(c.Title, c.XLabel, c.YLabel)
	var drawnShapes []lineShape
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
			return chart{}, fmt.Errorf("draw %q: series %q has %d x values and %d y values", c.Title, s.Name, len(s.X), len(s.Y))
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
		half := vg.Points(1.5) / 2
		if s.Points || s.NoLine || len(xys) == 1 {
			half = vg.Points(2.5)
		}
		drawnShapes = append(drawnShapes, lineShape{xys: xys, half: half, noLine: s.NoLine})
		line, err := plotter.NewLine(xys)
		if err != nil {
			return chart{}, fmt.Errorf("draw %q: series %q: %w", c.Title, s.Name, err)
		}
		line.Color = colorOf(i)
		line.Width = vg.Points(1.5)
		if s.Dashed {
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		if !s.NoLine {
			p.Add(line)
		}
		if s.Points || s.NoLine || len(xys) == 1 {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return chart{}, fmt.Errorf("draw %q: series %q: %w", c.Title, s.Name, err)
			}
			sc.Color = colorOf(i)
			sc.Shape = draw.CircleGlyph{}
			sc.Radius = vg.Points(2.5)
			p.Add(sc)
			switch {
			case s.Name != "" && s.NoLine:
				p.Legend.Add(s.Name, sc)
			case s.Name != "":
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
	return chart{p: p, shapes: lineShapes(drawnShapes), prefer: corner{top: !c.LegendBottom, left: c.LegendLeft}}, nil
}

// lineShape is a drawn series: its points and half its line width or its
// marker radius.
type lineShape struct {
	xys    plotter.XYs
	half   vg.Length
	noLine bool // markers only: each point is a shape of its own
}

// lineShapes returns the polylines of the series as plotter.Line draws
// them.
func lineShapes(series []lineShape) func(*gonum.Plot, draw.Canvas) []shape {
	return func(p *gonum.Plot, dc draw.Canvas) []shape {
		trX, trY := p.Transforms(&dc)
		out := make([]shape, 0, len(series))
		for _, s := range series {
			pts := make([]vg.Point, len(s.xys))
			for i, xy := range s.xys {
				pts[i] = vg.Point{X: trX(xy.X), Y: trY(xy.Y)}
			}
			if s.noLine {
				for _, pt := range pts {
					out = append(out, shape{line: []vg.Point{pt}, half: s.half})
				}
				continue
			}
			out = append(out, shape{line: pts, half: s.half})
		}
		return out
	}
}

// Save renders the chart and writes it to path atomically.
func (c LineChart) Save(path string) error {
	data, err := c.PNG()
	if err != nil {
		return fmt.Errorf("save chart %s: %w", path, err)
	}
	return writeFile(path, data)
}
