package dedup

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"

	"weaksup/thumbnail"
)

// Catalog is one index over the hashes of every view of the images of
// several test sets. It is immutable and safe for concurrent use.
type Catalog struct {
	Sets  []*TestSet
	index *Index
	refs  []ref // per index entry; the entries of one image are contiguous
}

type ref struct {
	set, image int32
	view       uint8
}

// Match is a test image a crawled image was found to copy, with the view
// and the test that decided it.
type Match struct {
	Set      string  `json:"test_set"`
	Image    string  `json:"test_image"` // path relative to the test set's root
	View     string  `json:"view"`       // the view that decided (Views)
	Distance int     `json:"distance"`   // Hamming distance to that view's hash
	Mirror   bool    `json:"mirror"`     // that view is mirrored
	Test     string  `json:"test"`       // TestNCC, TestChroma or TestPHash
	Score    float64 `json:"score"`      // thumbnail correlation (TestNCC), else 0
	Chroma   float64 `json:"chroma"`     // chroma distance (TestNCC, TestChroma), else 0
}

// ViewHit is a view of a test image within the search radius.
type ViewHit struct {
	View     int
	Distance int
}

// Candidate is a test image with views within the search radius of a
// query: what the verification decides.
type Candidate struct {
	Set, Image int
	Views      []ViewHit // nearest first
}

// NewCatalog indexes every view hash of sets, tuned for queries of radius
// r. A test set without signatures (built from hashes alone) contributes
// the image and its mirror.
func NewCatalog(sets []*TestSet, r int) *Catalog {
	c := &Catalog{Sets: sets}
	var hashes []uint64
	for s, ts := range sets {
		for i := range ts.Images {
			if ts.Sigs != nil {
				for v, h := range ts.Sigs[i].Hashes {
					hashes = append(hashes, h)
					c.refs = append(c.refs, ref{int32(s), int32(i), uint8(v)})
				}
				continue
			}
			hashes = append(hashes, ts.Hashes[i], ts.Mirrors[i])
			c.refs = append(c.refs, ref{int32(s), int32(i), 0}, ref{int32(s), int32(i), 1})
		}
	}
	c.index = NewIndex(hashes, r)
	return c
}

// Len returns the number of indexed hashes.
func (c *Catalog) Len() int { return c.index.Len() }

// candidates groups hits (in any order) by test image, appending to dst.
func (c *Catalog) candidates(hits []Hit, dst []Candidate) []Candidate {
	slices.SortFunc(hits, func(a, b Hit) int { return a.Entry - b.Entry })
	for i := 0; i < len(hits); {
		r := c.refs[hits[i].Entry]
		cand := Candidate{Set: int(r.set), Image: int(r.image)}
		for ; i < len(hits); i++ {
			o := c.refs[hits[i].Entry]
			if o.set != r.set || o.image != r.image {
				break
			}
			cand.Views = append(cand.Views, ViewHit{int(o.view), hits[i].Distance})
		}
		slices.SortStableFunc(cand.Views, func(a, b ViewHit) int { return a.Distance - b.Distance })
		dst = append(dst, cand)
	}
	return dst
}

// Search appends to dst the test images with a view within radius r of q.
// hits is scratch space that may be nil.
func (c *Catalog) Search(q uint64, r int, hits []Hit, dst []Candidate) ([]Hit, []Candidate) {
	hits = c.index.Search(q, r, hits[:0])
	return hits, c.candidates(hits, dst)
}

// SearchBatch searches every query within radius r on up to workers
// goroutines (0: one per core) and calls fn, from the calling goroutine and
// in query order, with the candidates of each query that has any.
func (c *Catalog) SearchBatch(queries []uint64, r, workers int, fn func(query int, cands []Candidate)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Parts large enough for the batch search's sorting to pay off.
	parts := max(1, min(workers, len(queries)/(1<<18)))
	type pair struct {
		q int
		h Hit
	}
	found := make([][]pair, parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*len(queries)/parts, (p+1)*len(queries)/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.index.SearchBatch(queries[lo:hi], r, func(q int, h Hit) { found[p] = append(found[p], pair{lo + q, h}) })
		}()
	}
	wg.Wait()
	var all []pair
	for _, f := range found {
		all = append(all, f...)
	}
	slices.SortFunc(all, func(a, b pair) int { return cmp.Or(a.q-b.q, a.h.Entry-b.h.Entry) })
	var hits []Hit
	var cands []Candidate
	for i := 0; i < len(all); {
		j := i
		hits = hits[:0]
		for ; j < len(all) && all[j].q == all[i].q; j++ {
			hits = append(hits, all[j].h)
		}
		cands = c.candidates(hits, cands[:0])
		fn(all[i].q, cands)
		i = j
	}
}

// Any reports whether some view of a test image lies within radius r of q.
func (c *Catalog) Any(q uint64, r int) bool { return c.index.Any(q, r) }

// Nearest returns the k test images nearest to q (by their nearest view),
// nearest first.
func (c *Catalog) Nearest(q uint64, k int) []Candidate {
	var out []Candidate
	seen := map[[2]int32]bool{}
	// Ask for more than k so that k distinct images remain after folding
	// the views of each.
	for _, h := range c.index.Nearest(q, k*len(Views)) {
		r := c.refs[h.Entry]
		if key := [2]int32{r.set, r.image}; !seen[key] && len(out) < k {
			seen[key] = true
			out = append(out, Candidate{Set: int(r.set), Image: int(r.image), Views: []ViewHit{{int(r.view), h.Distance}}})
		}
	}
	return out
}

// Query is what the verification knows of a crawled image: its thumbnail,
// prepared once for every candidate it has.
type Query struct {
	sig      signal    // nil when there is no thumbnail
	chroma   []float32 // Cb then Cr
	cellLuma []float32 // mean luma of each chroma cell
}

// NewQuery prepares a crawled image's thumbnail (nil or of the wrong size
// when it has none).
func NewQuery(t []byte) Query {
	if len(t) != thumbnail.Len {
		return Query{}
	}
	chroma, cellLuma := chromaOf(t)
	return Query{sig: prepareThumb(t), chroma: chroma, cellLuma: cellLuma}
}

// Best returns the candidate's view that best matches the query: with
// thumbnails on both sides, every view of the candidate within the radius
// is correlated and the highest score wins (then its chroma distance is
// measured); without a thumbnail on either side, the image or its mirror,
// nearest first, with Test TestPHash.
func (c *Catalog) Best(cand Candidate, q Query) Match {
	ts := c.Sets[cand.Set]
	m := Match{Set: ts.Spec.Name, Image: ts.Images[cand.Image]}
	best := -1
	set := func(v ViewHit) {
		m.View, m.Distance, m.Mirror = Views[v.View].Name, v.Distance, Views[v.View].Mirror
		best = v.View
	}
	if q.sig == nil || ts.Sigs == nil || !ts.Sigs[cand.Image].hasRef() {
		m.Test = TestPHash
		for _, v := range cand.Views {
			if v.View <= 1 {
				set(v)
				return m
			}
		}
		set(cand.Views[0])
		return m
	}
	m.Test = TestNCC
	sig := ts.Sigs[cand.Image]
	m.Score = -2
	for _, v := range cand.Views {
		if s := sig.score(q.sig, v.View); s > m.Score {
			set(v)
			m.Score = s
		}
	}
	m.Chroma = sig.chroma(q, best)
	return m
}

// Accepts reports whether a best match (Best) is a copy: a correlation of
// at least minScore and a chroma distance of at most maxChroma, or, decided
// by the hash alone, the image or its mirror within PlainRadius. A
// minScore of -1 accepts every candidate.
func Accepts(m Match, minScore, maxChroma float64) bool {
	switch {
	case minScore <= -1:
		return true
	case m.Test == TestPHash:
		return (m.View == Views[0].Name || m.View == Views[1].Name) && m.Distance <= PlainRadius
	}
	return m.Score >= minScore && m.Chroma <= maxChroma
}

// hopeless is how far beyond the chroma limit the colours of all of a
// candidate's views may be before the verification rejects it without
// correlating any: a chroma distance costs a fifth of a correlation, and
// most candidates (other photographs) differ a lot in colour.
const hopeless = 1.5

// precheck returns the smallest chroma distance of the query to the
// candidate's views within the radius, the view that has it, and whether
// the verification can use thumbnails at all.
func (c *Catalog) precheck(cand Candidate, q Query) (float64, ViewHit, bool) {
	ts := c.Sets[cand.Set]
	if q.sig == nil || ts.Sigs == nil || !ts.Sigs[cand.Image].hasRef() {
		return 0, ViewHit{}, false
	}
	d, at := math.Inf(1), cand.Views[0]
	for _, v := range cand.Views {
		if e := ts.Sigs[cand.Image].chroma(q, v.View); e < d {
			d, at = e, v
		}
	}
	return d, at, true
}

// Verify decides a candidate with the configured thresholds: a candidate
// all of whose views are more than hopeless times the chroma limit away in
// colour is rejected at once (no correlation computed); any other is
// decided by Best, then Accepts.
func (c *Catalog) Verify(cand Candidate, q Query, cfg Config) (Match, bool) {
	if d, v, ok := c.precheck(cand, q); ok && cfg.MinScore > -1 && d > hopeless*cfg.MaxChroma {
		ts := c.Sets[cand.Set]
		return Match{Set: ts.Spec.Name, Image: ts.Images[cand.Image], View: Views[v.View].Name, Distance: v.Distance,
			Mirror: Views[v.View].Mirror, Test: TestChroma, Chroma: d}, false
	}
	m := c.Best(cand, q)
	return m, Accepts(m, cfg.MinScore, cfg.MaxChroma)
}
