package dedup

import (
	"cmp"
	"runtime"
	"slices"
	"sync"
)

// Catalog is one index over the hashes of several test sets and of their
// mirrors. It is immutable and safe for concurrent use.
type Catalog struct {
	Sets  []*TestSet
	index *Index
	refs  []ref // per index entry
}

type ref struct {
	set, image int32
	mirror     bool
}

// Match is a test image within the radius of a query hash.
type Match struct {
	Set      string `json:"test_set"`
	Image    string `json:"test_image"` // path relative to the test set's root
	Distance int    `json:"distance"`
	Mirror   bool   `json:"mirror"` // matched the test image's mirror
}

// NewCatalog indexes every hash of sets, tuned for queries of radius r.
func NewCatalog(sets []*TestSet, r int) *Catalog {
	c := &Catalog{Sets: sets}
	var hashes []uint64
	for s, ts := range sets {
		for i := range ts.Images {
			hashes = append(hashes, ts.Hashes[i], ts.Mirrors[i])
			c.refs = append(c.refs, ref{int32(s), int32(i), false}, ref{int32(s), int32(i), true})
		}
	}
	c.index = NewIndex(hashes, r)
	return c
}

// Len returns the number of indexed hashes (two per test image).
func (c *Catalog) Len() int { return c.index.Len() }

func (c *Catalog) match(h Hit) Match {
	r := c.refs[h.Entry]
	return Match{Set: c.Sets[r.set].Spec.Name, Image: c.Sets[r.set].Images[r.image], Distance: h.Distance, Mirror: r.mirror}
}

// Search appends to dst the test images within radius r of q (an image
// whose hash and mirror hash both match appears once, with the nearer).
// hits is scratch space that may be nil.
func (c *Catalog) Search(q uint64, r int, hits []Hit, dst []Match) ([]Hit, []Match) {
	hits = c.index.Search(q, r, hits[:0])
	for _, h := range hits {
		m := c.match(h)
		if twin := c.twin(h.Entry); hasCloserTwin(hits, twin, h) {
			continue
		}
		dst = append(dst, m)
	}
	return hits, dst
}

// twin is the entry of the same test image's other orientation.
func (c *Catalog) twin(e int) int { return e ^ 1 }

// hasCloserTwin reports whether hits holds twin nearer than h, or as near
// with h being the mirror.
func hasCloserTwin(hits []Hit, twin int, h Hit) bool {
	for _, o := range hits {
		if o.Entry == twin {
			return o.Distance < h.Distance || (o.Distance == h.Distance && h.Entry&1 == 1)
		}
	}
	return false
}

// SearchBatch searches every query within radius r on up to workers
// goroutines (0: one per core) and calls fn, from the calling goroutine and
// in query order, with the test images matching each query that has any.
func (c *Catalog) SearchBatch(queries []uint64, r, workers int, fn func(query int, matches []Match)) {
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
	var matches []Match
	for i := 0; i < len(all); {
		j := i
		hits = hits[:0]
		for ; j < len(all) && all[j].q == all[i].q; j++ {
			hits = append(hits, all[j].h)
		}
		matches = matches[:0]
		for _, h := range hits {
			if !hasCloserTwin(hits, c.twin(h.Entry), h) {
				matches = append(matches, c.match(h))
			}
		}
		fn(all[i].q, matches)
		i = j
	}
}

// Any reports whether some test image lies within radius r of q.
func (c *Catalog) Any(q uint64, r int) bool { return c.index.Any(q, r) }

// Nearest returns the k test images nearest to q, nearest first.
func (c *Catalog) Nearest(q uint64, k int) []Match {
	var out []Match
	seen := map[int]bool{}
	// Ask for twice k so that k distinct images remain after folding mirrors.
	for _, h := range c.index.Nearest(q, 2*k) {
		if seen[h.Entry>>1] || len(out) == k {
			continue
		}
		seen[h.Entry>>1] = true
		out = append(out, c.match(h))
	}
	return out
}
