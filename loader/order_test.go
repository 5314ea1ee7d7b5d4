package loader

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"weaksup/internal/testkit"
)

// chi2Crit999 is the 0.999 quantile of the chi-square distribution by
// degrees of freedom: a correct sampler fails one fixed seed in a thousand.
var chi2Crit999 = map[int]float64{1: 10.83, 3: 16.27, 4: 18.47, 5: 20.52, 7: 24.32}

// TestSqrtSamplingMatchesSqrtCounts draws single-label items with square-root
// weights and checks the drawn tags follow p(t) ∝ sqrt(count(t)).
func TestSqrtSamplingMatchesSqrtCounts(t *testing.T) {
	counts := []int64{4000, 1000, 250, 64, 9, 1}
	var labels [][]int32
	for tag, c := range counts {
		for range c {
			labels = append(labels, []int32{int32(tag)})
		}
	}
	w, err := sqrtWeights(func(i int) ([]int32, error) { return labels[i], nil }, len(labels), counts)
	if err != nil {
		t.Fatal(err)
	}
	alias := newAliasTable(w)
	obs := make([]int, len(counts))
	draws := 0
	for epoch := range 40 {
		o := newEpochOrder(3, epoch, []int{len(labels)}, []int{0}, len(labels), 0, false, alias)
		for {
			i, ok := o.next()
			if !ok {
				break
			}
			obs[labels[i][0]]++
			draws++
		}
	}
	sum := 0.0
	for _, c := range counts {
		sum += math.Sqrt(float64(c))
	}
	exp := make([]float64, len(counts))
	for i, c := range counts {
		exp[i] = float64(draws) * math.Sqrt(float64(c)) / sum
	}
	if x := testkit.ChiSquare(obs, exp); x > chi2Crit999[len(counts)-1] {
		t.Errorf("tag draws %v, expected %v: chi-square %.1f > %.2f", obs, exp, x, chi2Crit999[len(counts)-1])
	}
	// Natural frequencies are far from sqrt ones, so the test can tell them apart.
	nat := make([]float64, len(counts))
	for i, c := range counts {
		nat[i] = float64(draws) * float64(c) / float64(len(labels))
	}
	if x := testkit.ChiSquare(obs, nat); x < 1000 {
		t.Errorf("sqrt draws are close to natural frequencies (chi-square %.1f)", x)
	}
}

func TestAliasTableMatchesWeights(t *testing.T) {
	for _, w := range [][]float64{{1, 1, 1, 1}, {5, 0, 1, 3, 0.5}, {0.001, 10, 2, 7, 1, 1, 3, 0.2}} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			a := newAliasTable(w)
			r := rand.New(rand.NewPCG(1, 1))
			const n = 200000
			obs := make([]int, len(w))
			for range n {
				obs[a.draw(r)]++
			}
			sum := 0.0
			for _, v := range w {
				sum += v
			}
			var o []int
			var e []float64
			for i, v := range w {
				if v == 0 {
					if obs[i] != 0 {
						t.Errorf("weight-0 index %d drawn %d times", i, obs[i])
					}
					continue
				}
				o = append(o, obs[i])
				e = append(e, n*v/sum)
			}
			crit := chi2Crit999[len(o)-1]
			if crit == 0 {
				crit = 16.27 // df 3: only reached by the equal-weight case
			}
			if x := testkit.ChiSquare(o, e); x > crit {
				t.Errorf("draws %v, expected %v: chi-square %.1f > %.2f", o, e, x, crit)
			}
		})
	}
}

func TestShuffleBufferIsPermutation(t *testing.T) {
	for _, tc := range []struct {
		blocks []int
		buf    int
	}{
		{[]int{5, 5, 5}, 1}, {[]int{3, 0, 9, 1}, 4}, {[]int{10}, 100}, {[]int{1, 1, 1, 1, 1, 1}, 0},
	} {
		n := 0
		var starts []int
		for _, b := range tc.blocks {
			starts = append(starts, n)
			n += b
		}
		o := newEpochOrder(1, 0, tc.blocks, starts, n, tc.buf, false, nil)
		seenAt := make([]bool, n)
		for k := 0; k < n; k++ {
			i, ok := o.next()
			if !ok || seenAt[i] {
				t.Fatalf("blocks %v buffer %d: output %d is %d (ok %v, repeat %v)", tc.blocks, tc.buf, k, i, ok, ok && seenAt[i])
			}
			seenAt[i] = true
		}
		if _, ok := o.next(); ok {
			t.Errorf("blocks %v buffer %d: more than %d outputs", tc.blocks, tc.buf, n)
		}
	}
}
