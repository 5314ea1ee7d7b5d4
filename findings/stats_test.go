package findings

import (
	"bytes"
	"encoding/json"
	"math"
	"os/exec"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestMeanStd(t *testing.T) {
	xs := []float64{2, 4, 4, 4, 5, 5, 7, 9}
	if got := Mean(xs); !near(got, 5) {
		t.Errorf("Mean = %v, want 5", got)
	}
	// Sample std: sqrt(32/7).
	if got, want := Std(xs), math.Sqrt(32.0/7); !near(got, want) {
		t.Errorf("Std = %v, want %v", got, want)
	}
	if got := Std([]float64{3}); got != 0 {
		t.Errorf("Std of one value = %v, want 0", got)
	}
}

func TestSlope(t *testing.T) {
	x := []float64{1, 2, 3, 4}
	y := []float64{3, 5, 7, 9} // y = 2x + 1
	if got := Slope(x, y); !near(got, 2) {
		t.Errorf("Slope = %v, want 2", got)
	}
	if got := Slope([]float64{1, 1}, []float64{1, 2}); !math.IsNaN(got) {
		t.Errorf("Slope without spread = %v, want NaN", got)
	}
}

func TestSpearman(t *testing.T) {
	// Monotone but not linear: rank correlation 1.
	if got := Spearman([]float64{1, 2, 3, 4}, []float64{1, 8, 27, 1000}); !near(got, 1) {
		t.Errorf("Spearman monotone = %v, want 1", got)
	}
	if got := Spearman([]float64{1, 2, 3}, []float64{3, 2, 1}); !near(got, -1) {
		t.Errorf("Spearman reversed = %v, want -1", got)
	}
	// Ties take mean ranks: scipy.stats.spearmanr([1,2,2,3],[1,3,2,4]) = 0.9486832980505138.
	if got := Spearman([]float64{1, 2, 2, 3}, []float64{1, 3, 2, 4}); !near(got, 0.9486832980505138) {
		t.Errorf("Spearman with ties = %v, want 0.9486832980505138", got)
	}
	if got := Ranks([]float64{10, 20, 20, 5}); got[0] != 2 || got[1] != 3.5 || got[2] != 3.5 || got[3] != 1 {
		t.Errorf("Ranks = %v, want [2 3.5 3.5 1]", got)
	}
}

func TestDirection(t *testing.T) {
	for _, c := range []struct {
		iv   Interval
		sign int
		want string
	}{
		{Interval{Mean: 3, Lo: 1, Hi: 5}, +1, Same},
		{Interval{Mean: -3, Lo: -5, Hi: -1}, +1, Opposite},
		{Interval{Mean: -3, Lo: -5, Hi: -1}, -1, Same},
		{Interval{Mean: 0.5, Lo: -0.5, Hi: 1.5}, +1, Inconclusive},
		{Interval{Mean: 1, Lo: 0, Hi: 2}, +1, Inconclusive}, // touches zero
		{Interval{Mean: math.NaN(), Lo: math.Inf(-1), Hi: math.Inf(1)}, +1, Inconclusive},
	} {
		if got := Direction(c.iv, c.sign); got != c.want {
			t.Errorf("Direction(%+v, %d) = %s, want %s", c.iv, c.sign, got, c.want)
		}
	}
}

// TestTIntervalMatchesSciPy checks the interval arithmetic — Student's t
// quantile, the mean and the standard error — against SciPy's
// scipy.stats.t.interval (Debian's python3-scipy), an implementation that
// shares no code with this one, and the quantiles alone against mpmath's
// 40-digit root of the distribution function. SciPy's quantiles are good
// to about 1e-9 (its t.ppf(0.995, 3) is 1.7e-9 below the root), so the
// intervals are compared to 1e-8, the quantiles to 1e-12.
func TestTIntervalMatchesSciPy(t *testing.T) {
	samples := [][]float64{
		{1.2, -0.4, 2.5},
		{0.1, 0.3, 0.2, 0.4, 0.25},
		{5, 3, 4, 6, 2, 8, 1, 7, 3.5, 4.5},
		{-2.25, 0.5},
	}
	levels := []float64{0.95, 0.9, 0.99}
	quantiles := []struct{ P, Df float64 }{{0.975, 1}, {0.975, 2}, {0.975, 4}, {0.995, 3}, {0.6, 7}, {0.975, 30}, {0.9995, 2}, {0.975, 1000}}
	in, err := json.Marshal(map[string]any{"samples": samples, "levels": levels, "quantiles": quantiles})
	if err != nil {
		t.Fatal(err)
	}
	const script = `
import json, sys
import numpy as np
from scipy import stats
q = json.load(sys.stdin)
out = {"intervals": [], "quantiles": []}
for xs in q["samples"]:
    for level in q["levels"]:
        xs_ = np.array(xs)
        lo, hi = stats.t.interval(level, len(xs_) - 1, loc=xs_.mean(), scale=stats.sem(xs_))
        out["intervals"].append([float(xs_.mean()), float(lo), float(hi)])
import mpmath
mpmath.mp.dps = 40
for x in q["quantiles"]:
    p, df = mpmath.mpf(x["P"]), mpmath.mpf(x["Df"])
    cdf = lambda t: 1 - mpmath.betainc(df / 2, mpmath.mpf(1) / 2, 0, df / (df + t * t), regularized=True) / 2 - p
    out["quantiles"].append(float(mpmath.findroot(cdf, stats.t.ppf(x["P"], x["Df"]))))
json.dump(out, sys.stdout)
`
	cmd := exec.Command("/usr/bin/python3", "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("SciPy and mpmath reference (python3-scipy, python3-mpmath: make deps installs them): %v\n%s", err, stderr.String())
	}
	var ref struct {
		Intervals [][3]float64
		Quantiles []float64
	}
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatal(err)
	}
	close := func(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }
	k := 0
	for _, xs := range samples {
		for _, level := range levels {
			iv, want := TInterval(xs, level), ref.Intervals[k]
			k++
			if !close(iv.Mean, want[0], 1e-12) || !close(iv.Lo, want[1], 1e-8) || !close(iv.Hi, want[2], 1e-8) || iv.N != len(xs) {
				t.Errorf("TInterval(%v, %v) = %+v, SciPy [%v, %v] around %v", xs, level, iv, want[1], want[2], want[0])
			}
		}
	}
	for i, q := range quantiles {
		if got := StudentTQuantile(q.P, q.Df); !close(got, ref.Quantiles[i], 1e-12) {
			t.Errorf("StudentTQuantile(%v, %v) = %.15g, mpmath %.15g", q.P, q.Df, got, ref.Quantiles[i])
		}
	}
	if iv := TInterval([]float64{4}, Level); !math.IsInf(iv.Lo, -1) || !math.IsInf(iv.Hi, 1) || Direction(iv, +1) != Inconclusive {
		t.Errorf("one seed: %+v, want an unbounded, inconclusive interval", iv)
	}
}

// NaN statistics (a rank correlation of constant values) survive the
// round trip through findings.json as null.
func TestSeedResultJSONKeepsNaN(t *testing.T) {
	s := SeedResult{Seed: 2, Statistic: math.NaN(), Order: []string{"a"}, Arms: map[string]float64{"a": math.NaN(), "b": 1.5}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back SeedResult
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Seed != 2 || !math.IsNaN(back.Statistic) || !math.IsNaN(back.Arms["a"]) || back.Arms["b"] != 1.5 {
		t.Errorf("round trip of %s gave %+v", b, back)
	}
}

// TestGateHoldsEveryRow: while the base arm's mean held-out mAP is below
// the minimum, the report reads no row, and says why.
func TestGateHoldsEveryRow(t *testing.T) {
	rep := &Report{BaseMAP: []Num{0.08, 0.10}}
	rep.gate(0.11)
	if rep.Gate == "" || !strings.Contains(rep.Gate, "0.090") {
		t.Errorf("gate %q with mean mAP 0.09 against 0.11, want a reason naming 0.090", rep.Gate)
	}
	rep.BaseMAP = append(rep.BaseMAP, 0.16)
	if rep.gate(0.11); rep.Gate != "" {
		t.Errorf("gate %q with mean mAP 0.113, want none", rep.Gate)
	}
	md := (&Report{BaseMAP: []Num{0.05}, Config: Config{MinMAP: 0.11}, Gate: "x"}).Markdown()
	if !strings.Contains(md, "No row is read") {
		t.Error("the report does not say that no row is read")
	}
}

// TestSeedsToDecide checks the seed count against Student's t table: with
// a mean of 1 and a standard deviation of 1, t(0.975, 5)/√6 = 2.571/2.449
// is above 1 and t(0.975, 6)/√7 = 2.447/2.646 below it, so 7 seeds.
func TestSeedsToDecide(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		max  int
		want int
	}{
		{[]float64{0, 2}, 100, 11},   // mean 1, s √2: t(n−1)·√2/√n < 1 first at n = 11
		{[]float64{1, 1, 1}, 100, 2}, // no spread: two seeds decide
		{[]float64{0.1, -0.1, 0.05}, 10, 11},
		{[]float64{3}, 100, 0},
		{[]float64{1, -1}, 100, 0},
	} {
		if got := SeedsToDecide(c.xs, 0.95, c.max); got != c.want {
			t.Errorf("SeedsToDecide(%v, 0.95, %d) = %d, want %d", c.xs, c.max, got, c.want)
		}
	}
	// Mean 1 and standard deviation 1, as three values.
	xs := []float64{0, 1, 2}
	if m, s := Mean(xs), Std(xs); math.Abs(m-1) > 1e-12 || math.Abs(s-1) > 1e-12 {
		t.Fatalf("mean %v std %v, want 1 and 1", m, s)
	}
	if got := SeedsToDecide(xs, 0.95, 100); got != 7 {
		t.Errorf("SeedsToDecide(mean 1, s 1) = %d, want 7", got)
	}
}
