package dedup

import (
	"fmt"
	"image"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"weaksup/phash"
)

// The near-duplicate benchmark: test images are tiles cut from some
// photographs; their variants (variants_test.go) must be found within the
// radius, and tiles cut from other photographs (negatives) must not be.

// corpusSpec says how many images to cut from which photographs.
type corpusSpec struct {
	testPhotos, negPhotos []image.Image
	perTest, perNeg       int // tiles per photograph
	testSize, negSize     int // longer side of a tile, pixels
	seed                  uint64
}

// corpus holds the hashes the benchmark measures.
type corpus struct {
	Index     []uint64            // each test image, then its mirror, in pairs
	Positives map[string][]uint64 // per variant: hash of the variant of test image i at i
	Negatives []uint64
}

// parallel runs fn(i) for i in [0,n) on every core.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func mustHash(img image.Image) uint64 {
	if img == nil {
		return 0
	}
	h, err := phash.Hash(img)
	if err != nil {
		return 0
	}
	return h
}

func buildCorpus(s corpusSpec) corpus {
	rng := rand.New(rand.NewPCG(s.seed, 1))
	type job struct {
		photo image.Image
		r     image.Rectangle
		seed  uint64
	}
	var testJobs, negJobs []job
	for _, p := range s.testPhotos {
		for _, r := range tiles(p.Bounds(), s.perTest, rng) {
			testJobs = append(testJobs, job{p, r, rng.Uint64()})
		}
	}
	for _, p := range s.negPhotos {
		for _, r := range tiles(p.Bounds(), s.perNeg, rng) {
			negJobs = append(negJobs, job{p, r, 0})
		}
	}
	c := corpus{
		Index:     make([]uint64, 2*len(testJobs)),
		Positives: map[string][]uint64{},
		Negatives: make([]uint64, len(negJobs)),
	}
	for _, v := range variants {
		c.Positives[v.name] = make([]uint64, len(testJobs))
	}
	parallel(len(testJobs), func(i int) {
		j := testJobs[i]
		img := tile(j.photo, j.r, s.testSize)
		c.Index[2*i] = mustHash(img)
		c.Index[2*i+1] = mustHash(Mirror(img))
		vr := rand.New(rand.NewPCG(j.seed, 2))
		for _, v := range variants {
			c.Positives[v.name][i] = mustHash(v.fn(img, vr))
		}
	})
	parallel(len(negJobs), func(i int) {
		j := negJobs[i]
		c.Negatives[i] = mustHash(tile(j.photo, j.r, s.negSize))
	})
	return c
}

// radiusTable is the benchmark's result for radii 0..maxR.
type radiusTable struct {
	Recall   map[string][]float64 // per variant and radius: share found
	FPR      []float64            // per radius: share of negatives matching some test hash
	PairRate []float64            // per radius: share of (negative, test hash) pairs within it
	Index    int                  // test hashes (with mirrors)
	Negs     int
}

func measure(c corpus, maxR int) radiusTable {
	t := radiusTable{Recall: map[string][]float64{}, Index: len(c.Index), Negs: len(c.Negatives)}
	for name, hs := range c.Positives {
		rec := make([]float64, maxR+1)
		for i, h := range hs {
			d := min(phash.Distance(h, c.Index[2*i]), phash.Distance(h, c.Index[2*i+1]))
			for r := d; r <= maxR; r++ {
				rec[r]++
			}
		}
		for r := range rec {
			rec[r] /= float64(len(hs))
		}
		t.Recall[name] = rec
	}
	t.FPR = make([]float64, maxR+1)
	t.PairRate = make([]float64, maxR+1)
	pairs := make([]float64, 65)
	for _, n := range c.Negatives {
		best := 64
		for _, h := range c.Index {
			d := bits.OnesCount64(n ^ h)
			pairs[d]++
			best = min(best, d)
		}
		for r := best; r <= maxR; r++ {
			t.FPR[r]++
		}
	}
	cum := 0.0
	for r := 0; r <= maxR; r++ {
		cum += pairs[r]
		t.FPR[r] /= float64(len(c.Negatives))
		t.PairRate[r] = cum / float64(len(c.Negatives)*len(c.Index))
	}
	return t
}

// Markdown renders the table: one row per radius, a column per variant.
func (t radiusTable) Markdown() string {
	names := make([]string, 0, len(t.Recall))
	for n := range t.Recall {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "recall per transformation (%d test images) and false positives (%d negatives against %d test hashes incl. mirrors)\n\n",
		t.Index/2, t.Negs, t.Index)
	fmt.Fprintf(&b, "| r | %s | all | FPR | pair rate | FPR@100k |\n|---|", strings.Join(names, " | "))
	b.WriteString(strings.Repeat("---|", len(names)+4) + "\n")
	for r := range t.FPR {
		fmt.Fprintf(&b, "| %d |", r)
		all := 0.0
		for _, n := range names {
			fmt.Fprintf(&b, " %.3f |", t.Recall[n][r])
			all += t.Recall[n][r]
		}
		fmt.Fprintf(&b, " %.3f | %.4f | %.2e | %.4f |\n", all/float64(len(names)), t.FPR[r], t.PairRate[r], projectedFPR(t.PairRate[r], 100_000))
	}
	return b.String()
}

// projectedFPR is the share of crawled images that would match an index of
// n test hashes if pairs matched independently at the measured rate.
func projectedFPR(pairRate float64, n int) float64 {
	p := 1.0
	for range n {
		p *= 1 - pairRate
	}
	return 1 - p
}

// TestNearDuplicates is the short form of the benchmark on the
// photographs under testdata: at the default radius every transformation
// is found and no tile of another photograph matches.
func TestNearDuplicates(t *testing.T) {
	photos := testPhotos(t)
	names := make([]string, 0, len(photos))
	for n := range photos {
		names = append(names, n)
	}
	sort.Strings(names)
	var spec corpusSpec
	for i, n := range names {
		if i%2 == 0 {
			spec.testPhotos = append(spec.testPhotos, photos[n])
		} else {
			spec.negPhotos = append(spec.negPhotos, photos[n])
		}
	}
	spec.perTest, spec.perNeg, spec.testSize, spec.negSize, spec.seed = 4, 60, 160, 96, 1
	tab := measure(buildCorpus(spec), 16)
	t.Logf("\n%s", tab.Markdown())
	all := 0.0
	for _, rec := range tab.Recall {
		all += rec[DefaultRadius]
	}
	if mean := all / float64(len(tab.Recall)); mean < 0.75 {
		t.Errorf("mean recall at radius %d = %.3f, want >= 0.75", DefaultRadius, mean)
	}
	// Mirrored copies are found only because mirrors are indexed too.
	if rec := tab.Recall["mirror"][DefaultRadius]; rec < 0.9 {
		t.Errorf("recall of mirrored copies at radius %d = %.3f, want >= 0.9", DefaultRadius, rec)
	}
	if fpr := tab.FPR[DefaultRadius]; fpr > 0.02 {
		t.Errorf("false-positive rate at radius %d = %.4f, want <= 0.02", DefaultRadius, fpr)
	}
}
