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

// Level is the confidence level of every interval of the report.
const Level = 0.95

// Interval is the mean of per-seed values and its two-sided Student-t
// confidence interval: the values are taken as a sample from a normal
// distribution of unknown variance, so the interval is mean ± t(1−α/2,
// n−1)·s/√n. For paired comparisons the values are the per-seed
// differences of two arms that shared the seed's data, initialization
// and order (common random numbers), which cancels what the arms share.
type Interval struct {
	N            int
	Mean, Lo, Hi float64
	Level        float64
}

// HalfWidth is half the interval's width.
func (iv Interval) HalfWidth() float64 { return (iv.Hi - iv.Lo) / 2 }

// TInterval returns the mean of xs and its Student-t interval at level
// (e.g. 0.95). With fewer than two values, or a NaN among them, the bounds
// are infinite: nothing is decided.
func TInterval(xs []float64, level float64) Interval {
	iv := Interval{N: len(xs), Mean: Mean(xs), Lo: math.Inf(-1), Hi: math.Inf(1), Level: level}
	if len(xs) < 2 || math.IsNaN(iv.Mean) {
		return iv
	}
	h := StudentTQuantile(1-(1-level)/2, float64(len(xs)-1)) * Std(xs) / math.Sqrt(float64(len(xs)))
	iv.Lo, iv.Hi = iv.Mean-h, iv.Mean+h
	return iv
}

// SeedsToDecide is how many seeds a comparison with the spread and mean
// of xs would need before its interval at level excluded zero: the
// smallest n with t(1−α/2, n−1)·s/√n < |mean|, s the sample standard
// deviation of xs. It is 0 when xs cannot say (fewer than two values, a
// NaN, a zero mean) and max+1 when even max seeds would not do.
func SeedsToDecide(xs []float64, level float64, max int) int {
	m, s := Mean(xs), Std(xs)
	if len(xs) < 2 || math.IsNaN(m) || math.IsNaN(s) || m == 0 {
		return 0
	}
	for n := 2; n <= max; n++ {
		if StudentTQuantile(1-(1-level)/2, float64(n-1))*s/math.Sqrt(float64(n)) < math.Abs(m) {
			return n
		}
	}
	return max + 1
}

// Direction is the verdict of an interval against the paper's sign (+1
// or −1): Same when the interval lies wholly on the paper's side of zero,
// Opposite when wholly on the other side, Inconclusive when it holds zero.
func Direction(iv Interval, sign int) string {
	switch {
	case math.IsNaN(iv.Mean) || iv.Lo <= 0 && iv.Hi >= 0:
		return Inconclusive
	case (iv.Lo > 0) == (sign > 0):
		return Same
	}
	return Opposite
}

// StudentTQuantile returns the p-quantile of Student's t distribution
// with df degrees of freedom, by bisection on its distribution function.
func StudentTQuantile(p, df float64) float64 {
	if p <= 0 || p >= 1 || df <= 0 || math.IsNaN(p) || math.IsNaN(df) {
		return math.NaN()
	}
	if p == 0.5 {
		return 0
	}
	if p < 0.5 {
		return -StudentTQuantile(1-p, df)
	}
	lo, hi := 0.0, 1.0
	for StudentTCDF(hi, df) < p {
		lo, hi = hi, 2*hi
	}
	for range 200 {
		mid := (lo + hi) / 2
		if StudentTCDF(mid, df) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// StudentTCDF returns P(T ≤ t) for Student's t with df degrees of
// freedom: 1 − I_x(df/2, 1/2)/2 for t ≥ 0, x = df/(df+t²).
func StudentTCDF(t, df float64) float64 {
	tail := 0.5 * regIncBeta(df/(df+t*t), df/2, 0.5)
	if t >= 0 {
		return 1 - tail
	}
	return tail
}

// regIncBeta is the regularized incomplete beta function I_x(a, b), by
// its continued fraction (modified Lentz), using the symmetry
// I_x(a,b) = 1 − I_{1−x}(b,a) where the fraction converges slowly.
func regIncBeta(x, a, b float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	lbeta, _ := math.Lgamma(a + b)
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	front := math.Exp(lbeta - la - lb + a*math.Log(x) + b*math.Log(1-x))
	if x > (a+1)/(a+b+2) {
		return 1 - front*betaFraction(1-x, b, a)/b
	}
	return front * betaFraction(x, a, b) / a
}

func betaFraction(x, a, b float64) float64 {
	const tiny, eps = 1e-300, 1e-16
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 1000; m++ {
		fm := float64(m)
		num := fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm))
		for i := range 2 {
			if i == 1 {
				num = -(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1))
			}
			d = 1 + num*d
			if math.Abs(d) < tiny {
				d = tiny
			}
			c = 1 + num/c
			if math.Abs(c) < tiny {
				c = tiny
			}
			d = 1 / d
			h *= d * c
		}
		if math.Abs(d*c-1) < eps {
			break
		}
	}
	return h
}
