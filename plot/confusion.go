package plot

import (
	"fmt"
	"image/color"
	"math"

	gonum "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// ConfusionMatrix is a K×K table of counts: row i holds the images of true
// class i, column j those predicted as class j.
type ConfusionMatrix struct {
	Counts [][]int64
	Names  []string // class names for the tick labels; nil numbers them
	Title  string
}

// maxNamedTicks is the class count up to which every tick is labelled with
// the class name; above it, ticks are class numbers at round intervals.
const maxNamedTicks = 40

// PNG draws m as a heat map of row-normalized counts (each cell is the
// fraction of class i's images predicted as j, so the diagonal is
// per-class recall), true classes top to bottom and predictions left to
// right. The image is square and grows with the number of classes.
func (m ConfusionMatrix) PNG() ([]byte, error) {
	k := len(m.Counts)
	if k == 0 {
		return nil, fmt.Errorf("plot confusion: no classes")
	}
	for i, row := range m.Counts {
		if len(row) != k {
			return nil, fmt.Errorf("plot confusion: row %d has %d columns, want %d", i, len(row), k)
		}
	}
	if m.Names != nil && len(m.Names) != k {
		return nil, fmt.Errorf("plot confusion: %d names for %d classes", len(m.Names), k)
	}
	p := newPlot(m.Title, "predicted class", "true class")
	hm := plotter.NewHeatMap(confusionGrid(m.Counts), whiteToBlue{})
	hm.Min, hm.Max = 0, 1
	hm.Rasterized = k > 50
	p.Add(hm)
	p.X.Min, p.X.Max = -0.5, float64(k)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(k)-0.5
	p.X.Tick.Marker = classTicks{k: k, names: m.Names}
	p.Y.Tick.Marker = classTicks{k: k, names: m.Names, flip: true}
	if k <= maxNamedTicks && m.Names != nil {
		p.X.Tick.Label.Rotation = math.Pi / 2
		p.X.Tick.Label.XAlign = -1 // right-aligned: the name ends at its tick
		p.X.Tick.Label.YAlign = -0.5
	}
	side := int(math.Min(1400, math.Max(500, 300+12*float64(k))))
	b, err := renderPNG(chart{p: p}, side, side)
	if err != nil {
		return nil, fmt.Errorf("plot confusion: %w", err)
	}
	return b, nil
}

// Save writes the PNG of m to path atomically.
func (m ConfusionMatrix) Save(path string) error {
	b, err := m.PNG()
	if err != nil {
		return fmt.Errorf("%w (%s)", err, path)
	}
	return writeFile(path, b)
}

// confusionGrid is the row-normalized matrix as a plotter.GridXYZ with
// true class 0 at the top (largest y).
type confusionGrid [][]int64

func (g confusionGrid) Dims() (c, r int) { return len(g), len(g) }
func (g confusionGrid) X(c int) float64  { return float64(c) }
func (g confusionGrid) Y(r int) float64  { return float64(r) }
func (g confusionGrid) Z(c, r int) float64 {
	row := g[len(g)-1-r]
	var n int64
	for _, v := range row {
		n += v
	}
	if n == 0 {
		return 0
	}
	return float64(row[c]) / float64(n)
}

// whiteToBlue is a sequential palette from white (0) to dark blue (1).
type whiteToBlue struct{}

func (whiteToBlue) Colors() []color.Color {
	const n = 64
	cs := make([]color.Color, n)
	for i := range cs {
		f := float64(i) / (n - 1)
		lerp := func(a, b float64) uint8 { return uint8(a + (b-a)*f + 0.5) }
		cs[i] = color.RGBA{lerp(255, 8), lerp(255, 48), lerp(255, 107), 255}
	}
	return cs
}

// classTicks labels the class positions of a confusion axis.
type classTicks struct {
	k     int
	names []string
	flip  bool // y axis: class 0 at the top
}

func (t classTicks) Ticks(_, _ float64) []gonum.Tick {
	step := 1
	if t.k > maxNamedTicks || t.names == nil {
		for _, s := range []int{1, 2, 5, 10, 20, 25, 50} {
			step = s
			if t.k/s <= 20 {
				break
			}
		}
	}
	var ticks []gonum.Tick
	for c := 0; c < t.k; c++ {
		pos := float64(c)
		if t.flip {
			pos = float64(t.k - 1 - c)
		}
		label := ""
		if c%step == 0 {
			label = fmt.Sprint(c)
			if t.names != nil && t.k <= maxNamedTicks {
				label = t.names[c]
			}
		}
		ticks = append(ticks, gonum.Tick{Value: pos, Label: label})
	}
	return ticks
}
