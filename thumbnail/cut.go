package thumbnail

import "math"

// Rect is a rectangle in pixel coordinates of a plane, fractional: pixel
// i spans [i, i+1).
type Rect struct{ X0, Y0, X1, Y1 float64 }

// A Cut resamples a rectangle of a w x h plane of bytes to n x n cells,
// each the area-weighted mean of the pixels it covers, optionally mirrored
// left to right. Cells outside the plane repeat its edge pixels. It is
// computed once and applied without allocating: dedup cuts the thumbnail
// of each view of a test image (a crop, a mirror) from the image's larger
// thumbnail for every candidate it verifies.
type Cut struct {
	x, y   weights
	w, n   int
	mirror bool
}

// NewCut returns the cut of r from a w x h plane to n x n cells.
func NewCut(r Rect, w, h, n int, mirror bool) Cut {
	return Cut{x: areaWeights(r.X0, r.X1, w, n), y: areaWeights(r.Y0, r.Y1, h, n), w: w, n: n, mirror: mirror}
}

// Into writes the n x n cut of plane (w x h bytes, rows top to bottom) to
// dst[:n*n]; tmp holds at least h*n values.
func (c Cut) Into(dst, tmp []float32, plane []byte) {
	n := c.n
	// Rows first: for each source row the cut uses, n column sums.
	for y := c.y.lo; y < c.y.hi; y++ {
		row := plane[y*c.w : (y+1)*c.w]
		for j, taps := range c.x.taps {
			var s float32
			for _, t := range taps {
				s += t.w * float32(row[t.i])
			}
			tmp[y*n+j] = s
		}
	}
	clear(dst[:n*n])
	for i, taps := range c.y.taps {
		out := dst[i*n : (i+1)*n]
		for _, t := range taps {
			src := tmp[t.i*n : (t.i+1)*n]
			for j := range out {
				out[j] += t.w * src[j]
			}
		}
	}
	if c.mirror {
		for y := range n {
			row := dst[y*n : (y+1)*n]
			for l, r := 0, n-1; l < r; l, r = l+1, r-1 {
				row[l], row[r] = row[r], row[l]
			}
		}
	}
}

type tap struct {
	i int
	w float32
}

type weights struct {
	taps   [][]tap // per output cell: source pixels and weights summing to 1
	lo, hi int     // source pixels used
}

// areaWeights maps [a, b) of a line of size pixels onto n cells. Cells
// outside the line repeat its edge pixel.
func areaWeights(a, b float64, size, n int) weights {
	w := weights{taps: make([][]tap, n), lo: size, hi: 0}
	step := (b - a) / float64(n)
	for j := range n {
		c0, c1 := a+float64(j)*step, a+float64(j+1)*step
		for i := int(math.Floor(c0)); float64(i) < c1; i++ {
			cover := math.Min(c1, float64(i+1)) - math.Max(c0, float64(i))
			if cover <= 1e-9 {
				continue
			}
			src := min(max(i, 0), size-1)
			w.taps[j] = append(w.taps[j], tap{src, float32(cover / step)})
			w.lo, w.hi = min(w.lo, src), max(w.hi, src+1)
		}
	}
	return w
}
