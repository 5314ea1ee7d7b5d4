package dedup

import (
	"math"

	"weaksup/thumbnail"
)

// The verification. A candidate (a crawled record whose perceptual hash
// lies within the radius of some view of a test image) is a copy when its
// thumbnail correlates with the thumbnail of that view and has its
// colours. The correlation is the normalized
// cross-correlation of the two after a band-pass filter (a 3x3 mean minus
// a 9x9 mean), which keeps the image's structure at a few pixels' scale
// and drops both pixel noise (re-encoding, resizing) and the smooth
// gradients (sky, sand, water) that make unrelated photographs share a
// perceptual hash. Brightness and contrast changes leave it unchanged; an
// offset of a pixel or so (what remains of a crop after the nearest view,
// or a small rotation) lowers it only a little. Grey structure alone still
// lets through blurred photographs of different things (bokeh, soft
// flowers, fog) that share a shape; their colours differ. The chroma
// distance is the RMS difference, in Cb/Cr levels, between the 8x8 chroma
// thumbnails after the best gain (0.75..1.33) about neutral grey, so that
// contrast and saturation changes pass; cells near black or white on
// either side count less, because clipping there (a brightness change)
// bleaches colour. The near-duplicate benchmark
// (BENCHMARKS.md) chose the filter and both thresholds.

// TestNCC names the verification in reports.
const TestNCC = "ncc+chroma"

// TestChroma names a candidate rejected on colour alone: its nearest view
// is far beyond the chroma limit (Catalog.Verify).
const TestChroma = "chroma"

// TestPHash names a match decided by the perceptual hash alone (a record
// stored without a thumbnail whose image could not be decoded).
const TestPHash = "phash"

// Band-pass radii, in thumbnail pixels.
const (
	bandInner = 1 // 3x3 mean
	bandOuter = 4 // 9x9 mean
)

// signal is a thumbnail prepared for correlation: band-passed, zero mean
// and unit length, or all zero when the image has no structure at all.
type signal []float32

// prepare band-passes a thumbnail.Side x thumbnail.Side thumbnail and normalizes it.
func prepare(t []float32) signal {
	s := make(signal, thumbnail.LumaLen)
	prepareInto(s, t)
	return s
}

// prepareInto writes the prepared thumbnail t to s (both thumbnail.Len long).
func prepareInto(s signal, t []float32) {
	const n, w = thumbnail.Side, thumbnail.Side + 1
	// Summed-area table with a zero border row and column; both means
	// come from it.
	var sat [w * w]float64
	for y := range n {
		var row float64
		for x := range n {
			row += float64(t[y*n+x])
			sat[(y+1)*w+x+1] = sat[y*w+x+1] + row
		}
	}
	box := func(x, y, r int) float64 {
		x0, x1, y0, y1 := max(x-r, 0), min(x+r+1, n), max(y-r, 0), min(y+r+1, n)
		sum := sat[y1*w+x1] - sat[y0*w+x1] - sat[y1*w+x0] + sat[y0*w+x0]
		return sum / float64((y1-y0)*(x1-x0))
	}
	var mean float64
	for y := range n {
		for x := range n {
			v := box(x, y, bandInner) - box(x, y, bandOuter)
			s[y*n+x] = float32(v)
			mean += v
		}
	}
	mean /= thumbnail.LumaLen
	var norm float64
	for i := range s {
		s[i] -= float32(mean)
		norm += float64(s[i]) * float64(s[i])
	}
	// Below a hundredth of a grey level per pixel there is nothing to
	// correlate: the score is 0.
	if norm < thumbnail.LumaLen*1e-4 {
		clear(s)
		return
	}
	k := float32(1 / math.Sqrt(norm))
	for i := range s {
		s[i] *= k
	}
}

// prepareThumb prepares the luma of a stored thumbnail.
func prepareThumb(t []byte) signal {
	var f [thumbnail.LumaLen]float32
	for i, v := range t[:thumbnail.LumaLen] {
		f[i] = float32(v)
	}
	return prepare(f[:])
}

// chromaOf returns the chroma of a stored thumbnail (Cb then Cr) and the
// mean luma of each chroma cell.
func chromaOf(t []byte) (chroma, cellLuma []float32) {
	chroma = make([]float32, 2*thumbnail.ChromaLen)
	for i, v := range t[thumbnail.LumaLen : thumbnail.LumaLen+2*thumbnail.ChromaLen] {
		chroma[i] = float32(v)
	}
	var l [thumbnail.LumaLen]float32
	for i, v := range t[:thumbnail.LumaLen] {
		l[i] = float32(v)
	}
	return chroma, cellMeans(l[:])
}

// cellMeans averages a luma thumbnail over the cells of the chroma one.
func cellMeans(l []float32) []float32 {
	const k = thumbnail.Side / thumbnail.ChromaSide
	out := make([]float32, thumbnail.ChromaLen)
	for y := range thumbnail.Side {
		for x := range thumbnail.Side {
			out[(y/k)*thumbnail.ChromaSide+x/k] += l[y*thumbnail.Side+x]
		}
	}
	for i := range out {
		out[i] /= k * k
	}
	return out
}

// chromaWeight is how much a chroma cell counts: 1 for mid-grey luma on
// both sides, falling to 0 within 48 levels of black or white.
func chromaWeight(la, lb float32) float64 {
	m := min(la, 255-la, lb, 255-lb)
	return min(max(float64(m)/48, 0), 1)
}

// chromaDistance is the weighted RMS difference of two chroma thumbnails
// (Cb then Cr, each thumbnail.ChromaLen values, with the mean luma of each cell on
// either side) after scaling b's distance from grey (128) by the gain in
// [0.75, 1.33] that fits a best. With no cell away from black and white
// it is 0: there is no colour to compare.
func chromaDistance(a, b, la, lb []float32) float64 {
	var ab, bb, ws float64
	w := make([]float64, thumbnail.ChromaLen)
	for i := range w {
		w[i] = chromaWeight(la[i], lb[i])
		ws += 2 * w[i]
	}
	if ws < 1 {
		return 0
	}
	for i := range a {
		x, y := float64(a[i])-128, float64(b[i])-128
		ab += w[i%thumbnail.ChromaLen] * x * y
		bb += w[i%thumbnail.ChromaLen] * y * y
	}
	k := 1.0
	if bb > 1 {
		k = min(max(ab/bb, 0.75), 4.0/3)
	}
	var d float64
	for i := range a {
		e := (float64(a[i]) - 128) - k*(float64(b[i])-128)
		d += w[i%thumbnail.ChromaLen] * e * e
	}
	return math.Sqrt(d / ws)
}

// correlate returns the normalized cross-correlation of two prepared
// thumbnails, in [-1, 1].
func correlate(a, b signal) float64 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return min(max(float64(s), -1), 1)
}
