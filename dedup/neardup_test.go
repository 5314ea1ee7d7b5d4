package dedup

import (
	"fmt"
	"image"
	"math"
	"math/bits"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/phash"
	"weaksup/thumbnail"
)

// The near-duplicate benchmark: test images are tiles cut from
// photographs; their variants (variants_test.go) must be found, and tiles
// cut from the other photographs (negatives) must not be. Every photograph
// gives both test images and negatives; a negative is compared only with
// the test images of other photographs.

// corpusSpec says how many images to cut from which photographs.
type corpusSpec struct {
	photos            []image.Image
	perTest, perNeg   int // tiles per photograph
	testSize, negSize int // longer side of a tile, pixels
	seed              uint64
}

// sample is what the stage knows of a crawled image: its perceptual hash
// and its thumbnail.
type sample struct {
	Hash  uint64
	Thumb []byte
}

// corpus holds the hashes and thumbnails the benchmark measures.
type corpus struct {
	TestPhoto []int               // photograph of each test image
	Sigs      []Signature         // of each test image
	Positives map[string][]sample // per variant: the variant of test image i at i
	NegPhoto  []int               // photograph of each negative
	Negatives []sample
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

func sampleOf(img image.Image) sample {
	if img == nil {
		return sample{}
	}
	return sample{Hash: mustHash(img), Thumb: thumbnail.Make(img)}
}

func buildCorpus(s corpusSpec) corpus {
	rng := rand.New(rand.NewPCG(s.seed, 1))
	type job struct {
		photo int
		r     image.Rectangle
		seed  uint64
	}
	var testJobs, negJobs []job
	for i, p := range s.photos {
		for _, r := range tiles(p.Bounds(), s.perTest, rng) {
			testJobs = append(testJobs, job{i, r, rng.Uint64()})
		}
		for _, r := range tiles(p.Bounds(), s.perNeg, rng) {
			negJobs = append(negJobs, job{i, r, 0})
		}
	}
	c := corpus{
		Sigs:      make([]Signature, len(testJobs)),
		Positives: map[string][]sample{},
		Negatives: make([]sample, len(negJobs)),
	}
	for _, j := range testJobs {
		c.TestPhoto = append(c.TestPhoto, j.photo)
	}
	for _, j := range negJobs {
		c.NegPhoto = append(c.NegPhoto, j.photo)
	}
	for _, v := range variants {
		c.Positives[v.name] = make([]sample, len(testJobs))
	}
	parallel(len(testJobs), func(i int) {
		j := testJobs[i]
		img := tile(s.photos[j.photo], j.r, s.testSize)
		sig, err := Sign(img)
		if err != nil {
			panic(err) // a tile always has pixels
		}
		c.Sigs[i] = sig
		vr := rand.New(rand.NewPCG(j.seed, 2))
		for _, v := range variants {
			c.Positives[v.name][i] = sampleOf(v.fn(img, vr))
		}
	})
	parallel(len(negJobs), func(i int) {
		j := negJobs[i]
		c.Negatives[i] = sampleOf(tile(s.photos[j.photo], j.r, s.negSize))
	})
	return c
}

// eligiblePairs counts the (negative, test image) pairs from different
// photographs.
func eligiblePairs(c corpus) float64 {
	perPhoto := map[int]int{}
	for _, p := range c.TestPhoto {
		perPhoto[p]++
	}
	n := 0.0
	for _, p := range c.NegPhoto {
		n += float64(len(c.TestPhoto) - perPhoto[p])
	}
	return n
}

// radiusTable is plain pHash (each test image and its mirror) for radii
// 0..maxR.
type radiusTable struct {
	Recall   map[string][]float64 // per variant and radius: share found
	FPR      []float64            // per radius: share of negatives matching some test hash
	PairRate []float64            // per radius: share of (negative, test hash) pairs within it
	Tests    int
	Negs     int
}

func measure(c corpus, maxR int) radiusTable {
	t := radiusTable{Recall: map[string][]float64{}, Tests: len(c.Sigs), Negs: len(c.Negatives)}
	for name, ps := range c.Positives {
		rec := make([]float64, maxR+1)
		for i, p := range ps {
			d := min(phash.Distance(p.Hash, c.Sigs[i].Hashes[0]), phash.Distance(p.Hash, c.Sigs[i].Hashes[1]))
			for r := d; r <= maxR; r++ {
				rec[r]++
			}
		}
		for r := range rec {
			rec[r] /= float64(len(ps))
		}
		t.Recall[name] = rec
	}
	t.FPR = make([]float64, maxR+1)
	t.PairRate = make([]float64, maxR+1)
	pairs := make([]float64, 65)
	for n, neg := range c.Negatives {
		best := 64
		for i, sig := range c.Sigs {
			if c.TestPhoto[i] == c.NegPhoto[n] {
				continue
			}
			for _, h := range sig.Hashes[:2] {
				d := bits.OnesCount64(neg.Hash ^ h)
				pairs[d]++
				best = min(best, d)
			}
		}
		for r := best; r <= maxR; r++ {
			t.FPR[r]++
		}
	}
	total := 2 * eligiblePairs(c)
	cum := 0.0
	for r := 0; r <= maxR; r++ {
		cum += pairs[r]
		t.FPR[r] /= float64(len(c.Negatives))
		t.PairRate[r] = cum / total
	}
	return t
}

// Markdown renders the table: one row per even radius, a column per variant.
func (t radiusTable) Markdown() string {
	names := make([]string, 0, len(t.Recall))
	for n := range t.Recall {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "plain pHash (image and mirror): recall per transformation (%d test images) and false positives (%d negatives against the test images of other photographs)\n\n",
		t.Tests, t.Negs)
	fmt.Fprintf(&b, "| r | %s | all | FPR | pair rate | FPR@100k |\n|---|", strings.Join(names, " | "))
	b.WriteString(strings.Repeat("---|", len(names)+4) + "\n")
	for r := 0; r < len(t.FPR); r += 2 {
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
	return 1 - math.Pow(1-pairRate, float64(n))
}

// setting is one configuration of the two-step matcher.
type setting struct {
	radius    int
	minScore  float64
	maxChroma float64
}

// matcherTable is the two-step matcher for several settings.
type matcherTable struct {
	Settings  []setting
	Recall    map[string][]float64 // per variant and setting
	FPR       []float64            // per setting: share of negatives matching some test image
	PairRate  []float64            // per setting: share of (negative, test image) pairs matched
	Cands     map[int]float64      // per radius: candidate views per (negative, test image) pair
	Pairs     float64              // (negative, test image) pairs compared
	Tests     int
	Negs      int
	ImageFPRs int // projected against this many test images
}

// bestPerRadius runs the stage's verification on a query and one test
// image for each radius: the best view among those within it
// (Catalog.Best) and the chroma distance of the nearest (Verify's
// precheck), or nothing (ok false) when no view is within it.
func bestPerRadius(cat *Catalog, img int, sig Signature, q sample, radii []int) (ms []Match, pre []float64, ok []bool, dist []int) {
	dist = make([]int, len(Views))
	for v := range Views {
		dist[v] = phash.Distance(q.Hash, sig.Hashes[v])
	}
	query := NewQuery(q.Thumb)
	ms, pre, ok = make([]Match, len(radii)), make([]float64, len(radii)), make([]bool, len(radii))
	for k, r := range radii {
		cand := Candidate{Set: 0, Image: img}
		for v, d := range dist {
			if d <= r {
				cand.Views = append(cand.Views, ViewHit{v, d})
			}
		}
		if len(cand.Views) > 0 {
			slices.SortStableFunc(cand.Views, func(a, b ViewHit) int { return a.Distance - b.Distance })
			ms[k], ok[k] = cat.Best(cand, query), true
			pre[k], _, _ = cat.precheck(cand, query)
		}
	}
	return ms, pre, ok, dist
}

func measureMatcher(c corpus, settings []setting) matcherTable {
	var radii []int
	for _, s := range settings {
		if !slices.Contains(radii, s.radius) {
			radii = append(radii, s.radius)
		}
	}
	maxR := slices.Max(radii)
	t := matcherTable{Settings: settings, Recall: map[string][]float64{}, Cands: map[int]float64{},
		Pairs: eligiblePairs(c), Tests: len(c.Sigs), Negs: len(c.Negatives), ImageFPRs: 50_000}
	ts := &TestSet{Spec: Spec{Name: "bench"}, Sigs: c.Sigs}
	for i, sig := range c.Sigs {
		ts.Images = append(ts.Images, fmt.Sprint(i))
		ts.Hashes, ts.Mirrors = append(ts.Hashes, sig.Hashes[0]), append(ts.Mirrors, sig.Hashes[1])
	}
	cat := NewCatalog([]*TestSet{ts}, maxR)
	accepted := func(ms []Match, pre []float64, ok []bool) []bool {
		out := make([]bool, len(settings))
		for k, s := range settings {
			i := slices.Index(radii, s.radius)
			out[k] = ok[i] && pre[i] <= hopeless*s.maxChroma && Accepts(ms[i], s.minScore, s.maxChroma)
		}
		return out
	}
	for name, ps := range c.Positives {
		found := make([]float64, len(settings))
		var mu sync.Mutex
		parallel(len(ps), func(i int) {
			ms, pre, ok, _ := bestPerRadius(cat, i, c.Sigs[i], ps[i], radii)
			acc := accepted(ms, pre, ok)
			mu.Lock()
			for k, a := range acc {
				if a {
					found[k]++
				}
			}
			mu.Unlock()
		})
		for k := range found {
			found[k] /= float64(len(ps))
		}
		t.Recall[name] = found
	}
	// Candidates of each negative through the index of every view.
	matched := make([][]float64, len(c.Negatives)) // per negative and setting: test images matched
	cands := make([]map[int]float64, len(c.Negatives))
	parallel(len(c.Negatives), func(n int) {
		neg := c.Negatives[n]
		matched[n] = make([]float64, len(settings))
		cands[n] = map[int]float64{}
		seen := map[int]bool{}
		for _, h := range cat.index.Search(neg.Hash, maxR, nil) {
			i := h.Entry / len(Views)
			if c.TestPhoto[i] == c.NegPhoto[n] || seen[i] {
				continue
			}
			seen[i] = true
			ms, pre, ok, dist := bestPerRadius(cat, i, c.Sigs[i], neg, radii)
			for _, d := range dist {
				for r := d; r <= maxR; r++ {
					cands[n][r]++
				}
			}
			for k, a := range accepted(ms, pre, ok) {
				if a {
					matched[n][k]++
				}
			}
		}
	})
	t.FPR = make([]float64, len(settings))
	t.PairRate = make([]float64, len(settings))
	for n := range c.Negatives {
		for k := range settings {
			t.PairRate[k] += matched[n][k]
			if matched[n][k] > 0 {
				t.FPR[k]++
			}
		}
		for r, k := range cands[n] {
			t.Cands[r] += k
		}
	}
	for k := range settings {
		t.PairRate[k] /= t.Pairs
		t.FPR[k] /= float64(len(c.Negatives))
	}
	for r := range t.Cands {
		t.Cands[r] /= t.Pairs
	}
	return t
}

// fprCell renders a projected false-positive rate; with no false match at
// all it gives the 95% upper bound (3 matches in the pairs compared).
func (t matcherTable) fprCell(pairRate float64) string {
	if pairRate == 0 {
		return fmt.Sprintf("0 (< %.4f)", projectedFPR(3/t.Pairs, t.ImageFPRs))
	}
	return fmt.Sprintf("%.4f", projectedFPR(pairRate, t.ImageFPRs))
}

// Markdown renders the table: one row per setting, a column per variant.
func (t matcherTable) Markdown() string {
	names := make([]string, 0, len(t.Recall))
	for n := range t.Recall {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "two-step matcher (%d views per test image, thumbnail correlation): recall per transformation (%d test images) and false positives (%d negatives, %.3g pairs)\n\n",
		len(Views), t.Tests, t.Negs, t.Pairs)
	fmt.Fprintf(&b, "| r | min score | max chroma | %s | all | FPR | pair rate | FPR@100k | candidate views per record |\n|---|---|---|", strings.Join(names, " | "))
	b.WriteString(strings.Repeat("---|", len(names)+5) + "\n")
	for k, s := range t.Settings {
		fmt.Fprintf(&b, "| %d | %.2f | %g |", s.radius, s.minScore, s.maxChroma)
		all := 0.0
		for _, n := range names {
			fmt.Fprintf(&b, " %.3f |", t.Recall[n][k])
			all += t.Recall[n][k]
		}
		fmt.Fprintf(&b, " %.3f | %.5f | %.2e | %s | %.2f |\n", all/float64(len(names)), t.FPR[k], t.PairRate[k],
			t.fprCell(t.PairRate[k]), t.Cands[s.radius]*float64(t.ImageFPRs))
	}
	return b.String()
}

// TestNearDuplicates is the short form of the benchmark on the
// photographs under testdata: plain pHash at its radius finds most
// copies but few crops; the two-step matcher at the defaults finds the
// crops too, and no tile of another photograph matches either.
func TestNearDuplicates(t *testing.T) {
	photos := testkit.Photos(t, photoDir)
	names := make([]string, 0, len(photos))
	for n := range photos {
		names = append(names, n)
	}
	sort.Strings(names)
	spec := corpusSpec{perTest: 4, perNeg: 60, testSize: 160, negSize: 96, seed: 1}
	for _, n := range names {
		spec.photos = append(spec.photos, photos[n])
	}
	c := buildCorpus(spec)
	tab := measure(c, 16)
	t.Logf("\n%s", tab.Markdown())
	all := 0.0
	for _, rec := range tab.Recall {
		all += rec[PlainRadius]
	}
	if mean := all / float64(len(tab.Recall)); mean < 0.75 {
		t.Errorf("plain pHash: mean recall at radius %d = %.3f, want >= 0.75", PlainRadius, mean)
	}
	// Mirrored copies are found only because mirrors are indexed too.
	if rec := tab.Recall["mirror"][PlainRadius]; rec < 0.9 {
		t.Errorf("plain pHash: recall of mirrored copies at radius %d = %.3f, want >= 0.9", PlainRadius, rec)
	}

	def := DefaultConfig()
	mt := measureMatcher(c, []setting{{def.Radius, def.MinScore, def.MaxChroma}})
	t.Logf("\n%s", mt.Markdown())
	all = 0
	for name, rec := range mt.Recall {
		all += rec[0]
		if rec[0] < 0.75 {
			t.Errorf("matcher: recall of %s = %.3f, want >= 0.75", name, rec[0])
		}
	}
	if mean := all / float64(len(mt.Recall)); mean < 0.95 {
		t.Errorf("matcher: mean recall = %.3f, want >= 0.95", mean)
	}
	if crops := mt.Recall["crop-10%"][0]; crops <= tab.Recall["crop-10%"][PlainRadius] {
		t.Errorf("matcher: recall of 10%% crops %.3f, want above plain pHash's %.3f", crops, tab.Recall["crop-10%"][PlainRadius])
	}
	if mt.FPR[0] != 0 {
		t.Errorf("matcher: false-positive rate %.4f, want 0", mt.FPR[0])
	}
}

// photoDir holds the real photographs of the near-duplicate tests; phash
// and thumbnail test on them too.
var photoDir = filepath.Join("testdata", "photos")
