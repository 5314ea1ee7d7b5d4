package dedup

import (
	"math"
	"math/bits"
	"slices"
	"sync"

	"weaksup/phash"
)

// Hit is one indexed hash within the search radius of a query.
type Hit struct {
	Entry    int // position of the hash in the slice the index was built from
	Distance int // Hamming distance to the query
}

// maxChunkBits bounds the width of a chunk, so a chunk table (2^width
// offsets) stays at most 256 KiB.
const maxChunkBits = 16

// Index answers Hamming-radius queries over a fixed set of 64-bit hashes
// with multi-index hashing (Norouzi et al., CVPR 2012) and the generalized
// pigeonhole principle (Qin et al., ICDE 2018): the hash is cut into m
// chunks, and a query of radius r gives each chunk i a threshold t_i with
// sum(t_i+1) = r+1. Any hash within r of the query is within t_i of it on at
// least one chunk, so probing every chunk's buckets within its threshold and
// verifying the full distance of what they hold finds exactly the hashes a
// brute-force scan finds. Where the probes would cost more than a scan
// (large radii), the index scans.
//
// An Index is immutable and safe for concurrent use.
type Index struct {
	hashes []uint64 // by entry
	chunks []chunk
	plans  [65]planSlot
	noScan bool // probe even where a scan is cheaper (tests of the probing path)
}

// chunk is one slice of the hash bits and its table: entries sorted by the
// chunk's value, with offsets per value (compressed sparse rows).
type chunk struct {
	shift   uint
	width   uint
	offsets []uint32 // len 2^width + 1
	hashes  []uint64 // full hash of each entry, in bucket order
	entries []int32  // entry of each position, in bucket order
}

func (c *chunk) value(h uint64) uint32 { return uint32(h>>c.shift) & (1<<c.width - 1) }

type planSlot struct {
	once sync.Once
	p    *plan
}

// plan is how a query of one radius runs: the masks probed per chunk, or a
// scan when that is cheaper.
type plan struct {
	scan  bool
	thr   []int      // per chunk; -1 skips the chunk
	masks [][]uint32 // per chunk: every value of weight <= thr
}

// NewIndex builds an index over hashes, tuned for queries of radius tune
// (every radius gives exact answers; tune picks the number of chunks that
// makes that radius fastest). The slice is copied.
func NewIndex(hashes []uint64, tune int) *Index {
	return newIndexChunks(hashes, bestChunkCount(len(hashes), clampRadius(tune)))
}

// newIndexChunks builds an index that cuts hashes into m chunks.
func newIndexChunks(hashes []uint64, m int) *Index {
	ix := &Index{hashes: slices.Clone(hashes)}
	ix.chunks = make([]chunk, m)
	// Split 64 bits into m chunks whose widths differ by at most one.
	shift := uint(0)
	for i := range m {
		w := uint(64 / m)
		if i < 64%m {
			w++
		}
		ix.chunks[i] = buildChunk(ix.hashes, shift, w)
		shift += w
	}
	return ix
}

func buildChunk(hashes []uint64, shift, width uint) chunk {
	c := chunk{shift: shift, width: width, offsets: make([]uint32, 1<<width+1)}
	for _, h := range hashes {
		c.offsets[c.value(h)+1]++
	}
	for v := 1; v < len(c.offsets); v++ {
		c.offsets[v] += c.offsets[v-1]
	}
	c.hashes = make([]uint64, len(hashes))
	c.entries = make([]int32, len(hashes))
	next := slices.Clone(c.offsets[:len(c.offsets)-1])
	for e, h := range hashes {
		v := c.value(h)
		c.hashes[next[v]] = h
		c.entries[next[v]] = int32(e)
		next[v]++
	}
	return c
}

// Len returns the number of indexed hashes.
func (ix *Index) Len() int { return len(ix.hashes) }

// Hash returns the hash of an entry.
func (ix *Index) Hash(entry int) uint64 { return ix.hashes[entry] }

// Chunks returns the number of chunks the hash is cut into.
func (ix *Index) Chunks() int { return len(ix.chunks) }

func clampRadius(r int) int { return min(max(r, 0), 64) }

// Search appends to dst every entry within Hamming distance r of q, each
// once, and returns it. The order is unspecified; a negative r finds nothing.
func (ix *Index) Search(q uint64, r int, dst []Hit) []Hit {
	if r < 0 || len(ix.hashes) == 0 {
		return dst
	}
	r = clampRadius(r)
	p := ix.plan(r)
	if p.scan {
		return scan(ix.hashes, q, r, dst)
	}
	for i := range ix.chunks {
		c := &ix.chunks[i]
		if p.thr[i] < 0 {
			continue
		}
		qv := c.value(q)
		for _, mask := range p.masks[i] {
			b := qv ^ mask
			lo := c.offsets[b]
			for k, h := range c.hashes[lo:c.offsets[b+1]] {
				if d := phash.Distance(h, q); d <= r && !ix.foundEarlier(p, i, h^q) {
					dst = append(dst, Hit{Entry: int(c.entries[int(lo)+k]), Distance: d})
				}
			}
		}
	}
	return dst
}

// Any reports whether some entry lies within Hamming distance r of q.
func (ix *Index) Any(q uint64, r int) bool {
	if r < 0 || len(ix.hashes) == 0 {
		return false
	}
	r = clampRadius(r)
	p := ix.plan(r)
	if p.scan {
		for _, h := range ix.hashes {
			if phash.Distance(h, q) <= r {
				return true
			}
		}
		return false
	}
	for i := range ix.chunks {
		c := &ix.chunks[i]
		if p.thr[i] < 0 {
			continue
		}
		qv := c.value(q)
		for _, mask := range p.masks[i] {
			b := qv ^ mask
			for _, h := range c.hashes[c.offsets[b]:c.offsets[b+1]] {
				if phash.Distance(h, q) <= r {
					return true
				}
			}
		}
	}
	return false
}

// SearchBatch calls fn(query, hit) for every entry within Hamming
// distance r of each of queries, once per pair, in no particular order,
// from the calling goroutine. It answers the same as Search on each query,
// but visits the queries of each chunk in order of their chunk value, so
// consecutive probes touch neighbouring buckets: on large batches it is
// several times faster than a loop of Search calls.
func (ix *Index) SearchBatch(queries []uint64, r int, fn func(query int, h Hit)) {
	if r < 0 || len(ix.hashes) == 0 || len(queries) == 0 {
		return
	}
	r = clampRadius(r)
	p := ix.plan(r)
	if p.scan {
		for qi, q := range queries {
			for e, h := range ix.hashes {
				if d := phash.Distance(h, q); d <= r {
					fn(qi, Hit{Entry: e, Distance: d})
				}
			}
		}
		return
	}
	order := make([]int32, len(queries))
	sorted := make([]uint64, len(queries))
	var counts []int32
	for i := range ix.chunks {
		c := &ix.chunks[i]
		if p.thr[i] < 0 {
			continue
		}
		// Counting sort of the queries (and their positions) by their value
		// on this chunk; afterwards counts[v] is the end of value v's run.
		counts = slices.Grow(counts[:0], 1<<c.width+1)[:1<<c.width+1]
		clear(counts)
		for _, q := range queries {
			counts[c.value(q)+1]++
		}
		for v := 1; v < len(counts); v++ {
			counts[v] += counts[v-1]
		}
		for qi, q := range queries {
			v := c.value(q)
			order[counts[v]], sorted[counts[v]] = int32(qi), q
			counts[v]++
		}
		// Queries with the same chunk value probe the same buckets: read
		// each bucket once for the whole run of them.
		masks := p.masks[i]
		start := int32(0)
		for v, end := range counts[:len(counts)-1] {
			run := sorted[start:end]
			if len(run) == 0 {
				continue
			}
			for _, mask := range masks {
				b := uint32(v) ^ mask
				lo := c.offsets[b]
				for k, h := range c.hashes[lo:c.offsets[b+1]] {
					for j, q := range run {
						if d := phash.Distance(h, q); d <= r && !ix.foundEarlier(p, i, h^q) {
							fn(int(order[int(start)+j]), Hit{Entry: int(c.entries[int(lo)+k]), Distance: d})
						}
					}
				}
			}
			start = end
		}
	}
}

// foundEarlier reports whether a hash differing from the query by diff was
// already reported by a chunk probed before chunk i, so each hit is
// reported once without a set of seen entries.
func (ix *Index) foundEarlier(p *plan, i int, diff uint64) bool {
	for j := range i {
		if p.thr[j] >= 0 && bits.OnesCount32(ix.chunks[j].value(diff)) <= p.thr[j] {
			return true
		}
	}
	return false
}

// Nearest returns the k entries closest to q, nearest first (ties by
// entry), by a full scan.
func (ix *Index) Nearest(q uint64, k int) []Hit {
	if k <= 0 {
		return nil
	}
	hits := make([]Hit, 0, k+1)
	for e, h := range ix.hashes {
		d := phash.Distance(h, q)
		if len(hits) == k && d >= hits[k-1].Distance {
			continue
		}
		at, _ := slices.BinarySearchFunc(hits, d, func(h Hit, d int) int {
			if h.Distance <= d {
				return -1
			}
			return 1
		})
		hits = slices.Insert(hits, at, Hit{Entry: e, Distance: d})
		if len(hits) > k {
			hits = hits[:k]
		}
	}
	return hits
}

// scan appends to dst every position in hashes within Hamming distance r
// of q, in order.
func scan(hashes []uint64, q uint64, r int, dst []Hit) []Hit {
	for e, h := range hashes {
		if d := phash.Distance(h, q); d <= r {
			dst = append(dst, Hit{Entry: e, Distance: d})
		}
	}
	return dst
}

func (ix *Index) plan(r int) *plan {
	s := &ix.plans[r]
	s.once.Do(func() { s.p = ix.makePlan(r) })
	return s.p
}

// thresholds splits radius r over chunks of the given widths so that
// sum(t_i+1) = r+1, giving the extra units to the widest chunks last
// (narrow chunks have fewer neighbours per unit of threshold).
func thresholds(widths []uint, r int) []int {
	m := len(widths)
	thr := make([]int, m)
	base, extra := (r+1)/m, (r+1)%m
	for i := range thr {
		thr[i] = base - 1
	}
	// widths are non-increasing, so the narrowest chunks are last.
	for i := m - 1; i >= 0 && extra > 0; i-- {
		thr[i]++
		extra--
	}
	return thr
}

func (ix *Index) makePlan(r int) *plan {
	widths := make([]uint, len(ix.chunks))
	for i, c := range ix.chunks {
		widths[i] = c.width
	}
	thr := thresholds(widths, r)
	if !ix.noScan && probeCost(len(ix.hashes), widths, thr) >= scanCost(len(ix.hashes)) {
		return &plan{scan: true}
	}
	p := &plan{thr: thr, masks: make([][]uint32, len(thr))}
	for i, t := range thr {
		if t >= 0 {
			p.masks[i] = masksUpTo(widths[i], t)
		}
	}
	return p
}

// Relative costs of a bucket probe, a candidate check and a scanned hash,
// measured on the index benchmarks.
const (
	costProbe     = 6.0
	costCandidate = 1.0
	costScanned   = 0.35
)

func probeCost(n int, widths []uint, thr []int) float64 {
	cost := 0.0
	for i, t := range thr {
		if t < 0 {
			continue
		}
		probes := ballVolume(widths[i], t)
		cost += probes * (costProbe + costCandidate*float64(n)/math.Exp2(float64(widths[i])))
	}
	return cost
}

func scanCost(n int) float64 { return costScanned * float64(n) }

// ballVolume is the number of w-bit values within Hamming distance t of one.
func ballVolume(w uint, t int) float64 {
	v, c := 0.0, 1.0
	for k := 0; k <= t && k <= int(w); k++ {
		v += c
		c = c * float64(int(w)-k) / float64(k+1)
	}
	return v
}

// bestChunkCount picks the number of chunks that makes radius r cheapest
// for n uniformly spread hashes, keeping chunks at most maxChunkBits wide.
func bestChunkCount(n, r int) int {
	best, bestCost := 64/maxChunkBits, math.Inf(1)
	for m := 64 / maxChunkBits; m <= 16; m++ {
		widths := make([]uint, m)
		for i := range widths {
			widths[i] = uint(64 / m)
			if i < 64%m {
				widths[i]++
			}
		}
		if c := probeCost(n, widths, thresholds(widths, r)); c < bestCost {
			best, bestCost = m, c
		}
	}
	return best
}

// masksUpTo returns every w-bit value of weight at most t, lightest first.
func masksUpTo(w uint, t int) []uint32 {
	var out []uint32
	var rec func(start uint, left int, v uint32)
	rec = func(start uint, left int, v uint32) {
		out = append(out, v)
		if left == 0 {
			return
		}
		for b := start; b < w; b++ {
			rec(b+1, left-1, v|1<<b)
		}
	}
	rec(0, min(t, int(w)), 0)
	slices.SortStableFunc(out, func(a, b uint32) int { return bits.OnesCount32(a) - bits.OnesCount32(b) })
	return out
}
