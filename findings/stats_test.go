package findings

import (
	"encoding/json"
	"math"
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
		mean, spread float64
		sign         int
		want         string
	}{
		{3, 1, +1, Same},
		{-3, 1, +1, Opposite},
		{-3, 1, -1, Same},
		{0.5, 1, +1, Inconclusive},
		{math.NaN(), 0, +1, Inconclusive},
	} {
		if got := Direction(c.mean, c.spread, c.sign); got != c.want {
			t.Errorf("Direction(%v, %v, %d) = %s, want %s", c.mean, c.spread, c.sign, got, c.want)
		}
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
