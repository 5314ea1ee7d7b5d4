package findings

import (
	"cmp"
	"math"
	"slices"
)

// Mean returns the mean of xs (NaN when empty).
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Std returns the sample standard deviation of xs (n−1 in the
// denominator); 0 for fewer than two values.
func Std(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	m := Mean(xs)
	s := 0.0
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(xs)-1))
}

// Slope returns the least-squares slope of y against x (NaN when x has no
// spread).
func Slope(x, y []float64) float64 {
	mx, my := Mean(x), Mean(y)
	num, den := 0.0, 0.0
	for i := range x {
		num += (x[i] - mx) * (y[i] - my)
		den += (x[i] - mx) * (x[i] - mx)
	}
	if den == 0 {
		return math.NaN()
	}
	return num / den
}

// Ranks returns the rank of each value, 1-based, ties sharing the mean of
// their ranks.
func Ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(xs[a], xs[b]) })
	r := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && xs[idx[j]] == xs[idx[i]] {
			j++
		}
		for k := i; k < j; k++ {
			r[idx[k]] = float64(i+j+1) / 2 // mean of ranks i+1..j
		}
		i = j
	}
	return r
}

// Pearson returns the correlation coefficient of x and y (NaN when either
// has no spread).
func Pearson(x, y []float64) float64 {
	mx, my := Mean(x), Mean(y)
	sxy, sxx, syy := 0.0, 0.0, 0.0
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// Spearman returns the rank correlation of x and y: Pearson's correlation
// of their ranks, ties given mean ranks.
func Spearman(x, y []float64) float64 { return Pearson(Ranks(x), Ranks(y)) }

// Direction values of a finding.
const (
	Same         = "yes"
	Opposite     = "no"
	Inconclusive = "inconclusive"
)

// Direction compares a statistic's mean with the paper's sign (+1 or −1):
// Same when it lies on the paper's side of zero by more than the spread,
// Opposite when on the other side by more than the spread, Inconclusive
// otherwise (and for a NaN mean).
func Direction(mean, spread float64, sign int) string {
	switch {
	case math.IsNaN(mean):
		return Inconclusive
	case math.Abs(mean) <= spread:
		return Inconclusive
	case (mean > 0) == (sign > 0):
		return Same
	}
	return Opposite
}
