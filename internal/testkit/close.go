package testkit

import "math"

// CloseTo reports whether got matches want within rtol of each element
// plus rtol of want's largest magnitude (so elements near zero are judged
// on the tensor's scale), and the worst relative error and where it is.
func CloseTo(got, want []float32, rtol float64) (worst float64, at int, ok bool) {
	if len(got) != len(want) {
		return math.Inf(1), -1, false
	}
	var scale float64
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	ok = true
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > rtol*math.Abs(float64(want[i]))+rtol*scale || math.IsNaN(d) {
			ok = false
		}
		if r := d / math.Max(math.Abs(float64(want[i])), 1e-3*scale); r > worst || math.IsNaN(d) {
			worst, at = r, i
		}
	}
	return worst, at, ok
}
