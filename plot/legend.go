package plot

import (
	"image/color"

	gonum "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Legend placement: a legend never covers data. It goes to the first
// place in the data area whose box is clear of every drawn line, marker
// and bar: the four corners in the chart's order of preference, then the
// middles of the right, left, top and bottom edges (as matplotlib's
// loc="best" tries them); when none is clear it goes outside the data
// area, to the right of the plot.
const (
	legendInset     = vg.Length(6) // between the legend and the data area's edge, in points
	legendClearance = vg.Length(3) // between the legend and the nearest data
)

// corner is a corner of the data area.
type corner struct{ top, left bool }

// spot is where in the data area a legend box goes: the fraction of the
// free width to its left and of the free height below it.
type spot struct{ fx, fy float64 }

func (k corner) spot() spot {
	sp := spot{fx: 1, fy: 1}
	if k.left {
		sp.fx = 0
	}
	if !k.top {
		sp.fy = 0
	}
	return sp
}

// spots returns the places a legend may go, in order: first, the other
// corner on its side (top or bottom), the two on the other side, then the
// middles of the edges.
func (first corner) spots() []spot {
	return []spot{
		first.spot(),
		corner{first.top, !first.left}.spot(),
		corner{!first.top, first.left}.spot(),
		corner{!first.top, !first.left}.spot(),
		{1, 0.5}, {0, 0.5}, {0.5, 1}, {0.5, 0},
	}
}

// shape is data drawn on the canvas: a polyline (a single point for a
// lone marker) with a half width, or a filled rectangle.
type shape struct {
	line []vg.Point
	half vg.Length // half the line width, or the marker radius
	box  *vg.Rectangle
}

// hits reports whether the shape touches r.
func (s shape) hits(r vg.Rectangle) bool {
	if s.box != nil {
		return overlaps(*s.box, r)
	}
	r = grow(r, s.half)
	for i, p := range s.line {
		if contains(r, p) {
			return true
		}
		if i > 0 && segmentHits(s.line[i-1], p, r) {
			return true
		}
	}
	return false
}

func grow(r vg.Rectangle, d vg.Length) vg.Rectangle {
	return vg.Rectangle{Min: vg.Point{X: r.Min.X - d, Y: r.Min.Y - d}, Max: vg.Point{X: r.Max.X + d, Y: r.Max.Y + d}}
}

func contains(r vg.Rectangle, p vg.Point) bool {
	return p.X >= r.Min.X && p.X <= r.Max.X && p.Y >= r.Min.Y && p.Y <= r.Max.Y
}

func overlaps(a, b vg.Rectangle) bool {
	return a.Min.X <= b.Max.X && b.Min.X <= a.Max.X && a.Min.Y <= b.Max.Y && b.Min.Y <= a.Max.Y
}

// segmentHits reports whether the segment a–b crosses r (Liang–Barsky
// clipping: some part of the segment lies inside).
func segmentHits(a, b vg.Point, r vg.Rectangle) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := float64(b.X-a.X), float64(b.Y-a.Y)
	clip := func(p, q float64) bool {
		switch {
		case p == 0:
			return q >= 0
		case p < 0:
			t := q / p
			if t > t1 {
				return false
			}
			t0 = max(t0, t)
		default:
			t := q / p
			if t < t0 {
				return false
			}
			t1 = min(t1, t)
		}
		return true
	}
	return clip(-dx, float64(a.X-r.Min.X)) && clip(dx, float64(r.Max.X-a.X)) &&
		clip(-dy, float64(a.Y-r.Min.Y)) && clip(dy, float64(r.Max.Y-a.Y))
}

// chart is a gonum plot ready to draw, with what its legend must not
// cover.
type chart struct {
	p *gonum.Plot
	// shapes returns the drawn data in the coordinates of the data area
	// dc, through p.Transforms.
	shapes func(p *gonum.Plot, dc draw.Canvas) []shape
	prefer corner
}

// draw draws the chart on c, and its legend unless noLegend (tests compare
// the two).
func (ch chart) draw(c draw.Canvas, noLegend bool) {
	p := ch.p
	leg := p.Legend
	p.Legend = gonum.NewLegend() // drawn here instead, where it covers nothing
	defer func() { p.Legend = leg }()
	size := legendSize(&leg)
	if size.X == 0 {
		p.Draw(c)
		return
	}
	box, ok := ch.clearSpot(c, size)
	plotArea := c
	if !ok {
		// Outside: the plot gives up a strip on the right.
		plotArea = draw.Crop(c, 0, -(size.X + 2*legendInset), 0, 0)
		dc := p.DataCanvas(plotArea)
		x := c.Max.X - legendInset - size.X
		box = vg.Rectangle{Min: vg.Point{X: x, Y: dc.Max.Y - size.Y}, Max: vg.Point{X: x + size.X, Y: dc.Max.Y}}
	}
	p.Draw(plotArea)
	if noLegend {
		return
	}
	c.SetColor(color.White)
	c.Fill(grow(box, legendClearance/2).Path())
	leg.Top, leg.Left, leg.XOffs, leg.YOffs = true, false, 0, 0
	leg.Draw(draw.Canvas{Canvas: c.Canvas, Rectangle: box})
}

// clearSpot returns the legend box of the first spot, in order of
// preference, that covers no data.
func (ch chart) clearSpot(c draw.Canvas, size vg.Point) (vg.Rectangle, bool) {
	dc := ch.p.DataCanvas(c)
	var shapes []shape
	if ch.shapes != nil {
		shapes = ch.shapes(ch.p, dc)
	}
	free := vg.Point{X: dc.Size().X - 2*legendInset - size.X, Y: dc.Size().Y - 2*legendInset - size.Y}
	if free.X < 0 || free.Y < 0 {
		return vg.Rectangle{}, false // larger than the data area
	}
	for _, sp := range ch.prefer.spots() {
		min := vg.Point{X: dc.Min.X + legendInset + vg.Length(sp.fx)*free.X, Y: dc.Min.Y + legendInset + vg.Length(sp.fy)*free.Y}
		box := vg.Rectangle{Min: min, Max: min.Add(size)}
		clear := true
		for _, s := range shapes {
			if s.hits(grow(box, legendClearance)) {
				clear = false
				break
			}
		}
		if clear {
			return box, true
		}
	}
	return vg.Rectangle{}, false
}

// legendSize is the extent of the legend's entries as Legend.Draw lays
// them out from the top right of its canvas: Rectangle's size, plus the
// descent Draw leaves above the first entry and half a descent the last
// entry's text reaches below its icon. Zero without entries.
func legendSize(l *gonum.Legend) vg.Point {
	s := l.Rectangle(draw.Canvas{}).Size()
	if s.X == 0 || s.Y == 0 {
		return vg.Point{}
	}
	s.Y += 1.5 * l.TextStyle.FontExtents().Descent
	return s
}
