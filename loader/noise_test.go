package loader

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"weaksup/internal/testkit"
)

// TestLabelNoiseMatchesTargetDistribution feeds labels of a tag the
// marginal never draws (count 0), so every changed label is a replacement,
// and checks the replaced fraction is p and replacements follow the
// marginal.
func TestLabelNoiseMatchesTargetDistribution(t *testing.T) {
	counts := []int64{0, 500, 300, 150, 40, 10}
	const n = 100000
	for _, p := range []float64{0.1, 0.25, 0.5, 0.9} {
		t.Run(fmt.Sprintf("p=%g", p), func(t *testing.T) {
			ln, err := newLabelNoise(p, counts)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(2018, uint64(p*100)))
			in := []int32{0, 0, 0, 0}
			obs := make([]int, len(counts))
			var out []int32
			for range n / len(in) {
				out = ln.apply(out[:0], in, r)
				for _, t := range out {
					obs[t]++
				}
			}
			replaced := n - obs[0]
			if x := testkit.ChiSquare([]int{replaced, obs[0]}, []float64{n * p, n * (1 - p)}); x > chi2Crit999[1] {
				t.Errorf("replaced %d of %d labels, want about %g: chi-square %.1f > %.2f", replaced, n, n*p, x, chi2Crit999[1])
			}
			var sum int64
			for _, c := range counts {
				sum += c
			}
			exp := make([]float64, 0, len(counts)-1)
			for _, c := range counts[1:] {
				exp = append(exp, float64(replaced)*float64(c)/float64(sum))
			}
			if x := testkit.ChiSquare(obs[1:], exp); x > chi2Crit999[4] {
				t.Errorf("replacement tags %v, want about %v: chi-square %.1f > %.2f", obs[1:], exp, x, chi2Crit999[4])
			}
		})
	}
}

func TestLabelNoiseExtremes(t *testing.T) {
	counts := []int64{0, 3, 0, 7}
	in := []int32{0, 2, 0, 2, 0}
	for _, tc := range []struct {
		p        float64
		keepSame bool
	}{{0, true}, {1, false}} {
		ln, err := newLabelNoise(tc.p, counts)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for range 100 {
			got := ln.apply(nil, in, r)
			if len(got) != len(in) {
				t.Fatalf("p=%g: %d labels out of %d", tc.p, len(got), len(in))
			}
			for i := range got {
				same := got[i] == in[i]
				if same != tc.keepSame {
					t.Fatalf("p=%g: label %d became %d; want kept=%v (zero-count tags 0 and 2 are never drawn)", tc.p, in[i], got[i], tc.keepSame)
				}
			}
		}
	}
}

func TestLabelNoiseReproducible(t *testing.T) {
	ln, err := newLabelNoise(0.5, []int64{1, 2, 3, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	in := []int32{0, 1, 2, 3, 4, 0, 1, 2}
	a := ln.apply(nil, in, rand.New(rand.NewPCG(7, 7)))
	b := ln.apply(nil, in, rand.New(rand.NewPCG(7, 7)))
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed gave %v and %v", a, b)
	}
}

func TestNewLabelNoiseRejects(t *testing.T) {
	for _, tc := range []struct {
		p      float64
		counts []int64
	}{{-0.1, []int64{1}}, {1.5, []int64{1}}, {0.1, []int64{0, 0}}, {0.1, nil}, {0.1, []int64{3, -1}}} {
		if _, err := newLabelNoise(tc.p, tc.counts); err == nil {
			t.Errorf("newLabelNoise(%g, %v): no error", tc.p, tc.counts)
		}
	}
}
