package dedup

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkBatch compares SearchBatch with the brute-force answers want.
func checkBatch(t *testing.T, name string, ix *Index, queries []uint64, r int, want [][]Hit) {
	t.Helper()
	got := make([][]Hit, len(queries))
	ix.SearchBatch(queries, r, func(qi int, h Hit) { got[qi] = append(got[qi], h) })
	for qi, q := range queries {
		if g := sortHits(got[qi]); !slices.Equal(g, want[qi]) {
			t.Fatalf("%s: SearchBatch query %d (%016x, r=%d) with %d chunks = %v, want %v", name, qi, q, r, ix.Chunks(), g, want[qi])
		}
	}
}

func sortHits(h []Hit) []Hit {
	slices.SortFunc(h, func(a, b Hit) int { return a.Entry - b.Entry })
	return h
}

// maxProbedRadius bounds the radii at which the tests force probing where
// the index would scan (probes grow as the ball volume of the threshold).
const maxProbedRadius = 12

// checkAgainstBruteForce compares Search, Any and SearchBatch with a full
// scan for every query and radius, both as the index plans each radius and
// with probing forced where it would scan.
func checkAgainstBruteForce(t *testing.T, name string, hashes, queries []uint64, radii []int, tune int) {
	t.Helper()
	ix := NewIndex(hashes, tune)
	probing := NewIndex(hashes, tune)
	probing.noScan = true
	indexes := []*Index{ix, probing}
	var hits []Hit
	for _, r := range radii {
		want := make([][]Hit, len(queries))
		for qi, q := range queries {
			want[qi] = bruteForce(hashes, q, r, nil)
		}
		for k, x := range indexes {
			if k == 1 && r > maxProbedRadius {
				break
			}
			label := fmt.Sprintf("%s (index %d, %d chunks, tune %d)", name, k, x.Chunks(), tune)
			checkBatch(t, label, x, queries, r, want)
			for qi, q := range queries {
				hits = sortHits(x.Search(q, r, hits[:0]))
				if !slices.Equal(hits, want[qi]) {
					t.Fatalf("%s: Search(%016x, r=%d) = %v, want %v", label, q, r, hits, want[qi])
				}
				if got := x.Any(q, r); got != (len(want[qi]) > 0) {
					t.Fatalf("%s: Any(%016x, r=%d) = %v, want %v", label, q, r, got, len(want[qi]) > 0)
				}
			}
		}
	}
}

// near returns h with k distinct random bits flipped.
func near(r *rand.Rand, h uint64, k int) uint64 {
	for _, b := range r.Perm(64)[:k] {
		h ^= 1 << b
	}
	return h
}

func allRadii() []int {
	r := make([]int, 0, 67)
	for i := -1; i <= 65; i++ {
		r = append(r, i)
	}
	return r
}

func TestIndexRandomEqualsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, n := range []int{0, 1, 2, 17, 1000, 5000} {
		for _, tune := range []int{0, 4, 8, 12, 20} {
			hashes := make([]uint64, n)
			for i := range hashes {
				hashes[i] = rng.Uint64()
			}
			var queries []uint64
			for range 40 {
				queries = append(queries, rng.Uint64())
			}
			// Queries near indexed hashes, at every distance up to 20.
			for k := 0; k <= 20 && n > 0; k++ {
				queries = append(queries, near(rng, hashes[rng.IntN(n)], k))
			}
			radii := []int{-1, 0, 1, 2, 3, 5, 8, 10, 13, 16, 24, 40, 64}
			checkAgainstBruteForce(t, fmt.Sprintf("random n=%d", n), hashes, queries, radii, tune)
		}
	}
}

// TestIndexAdversarialEqualsBruteForce uses hash sets built to break
// chunking mistakes: duplicates, differences packed into one chunk or on
// chunk borders, the all-zero and all-one hashes, and queries at exactly
// the radius and one beyond it.
func TestIndexAdversarialEqualsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	base := rng.Uint64()
	sets := map[string][]uint64{
		"duplicates":  slices.Repeat([]uint64{base}, 300),
		"zero-ones":   {0, ^uint64(0), 0, 1, 1 << 63, ^uint64(0) >> 1},
		"low-bits":    nil,
		"high-bits":   nil,
		"borders":     nil,
		"one-chunk":   nil,
		"every-shell": nil,
		"skewed":      nil,
	}
	for i := range 512 {
		sets["low-bits"] = append(sets["low-bits"], uint64(i))
		sets["high-bits"] = append(sets["high-bits"], uint64(i)<<55)
		// Flip bits around every possible chunk border (multiples of 4..16 bits).
		b := uint(i % 64)
		sets["borders"] = append(sets["borders"], base^(3<<b|1<<((b+13)%64)))
		// Differences confined to the lowest 16 bits: one chunk of most layouts.
		sets["one-chunk"] = append(sets["one-chunk"], base^uint64(rng.IntN(1<<16)))
		// Every distance from base, several times.
		sets["every-shell"] = append(sets["every-shell"], near(rng, base, i%65))
		// Bits biased like perceptual hashes: bit 63 set, a few bits mostly fixed.
		sets["skewed"] = append(sets["skewed"], (rng.Uint64()&rng.Uint64()&rng.Uint64())|1<<63)
	}
	for name, hashes := range sets {
		queries := []uint64{0, ^uint64(0), base, ^base}
		for _, h := range hashes[:min(len(hashes), 12)] {
			queries = append(queries, h, h^1, h^(1<<63), ^h)
		}
		for k := 0; k <= 64; k++ {
			queries = append(queries, near(rng, base, k))
		}
		for _, tune := range []int{0, 6, 10} {
			checkAgainstBruteForce(t, name, hashes, queries, allRadii(), tune)
		}
	}
}

// TestIndexExactRadiusBoundary puts hashes at exactly r and r+1 from the
// query for every radius and layout.
func TestIndexExactRadiusBoundary(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for r := 0; r <= 20; r++ {
		q := rng.Uint64()
		var hashes []uint64
		for range 50 {
			hashes = append(hashes, near(rng, q, r), near(rng, q, r+1))
		}
		for _, tune := range []int{0, r, 16} {
			ix := NewIndex(hashes, tune)
			got := ix.Search(q, r, nil)
			if len(got) != 50 {
				t.Errorf("r=%d tune=%d: found %d hashes, want the 50 at distance %d", r, tune, len(got), r)
			}
			for _, h := range got {
				if h.Distance != r || h.Entry%2 != 0 {
					t.Errorf("r=%d tune=%d: hit %+v, want even entries at distance %d", r, tune, h, r)
				}
			}
		}
	}
}

func TestIndexNearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	hashes := make([]uint64, 2000)
	for i := range hashes {
		hashes[i] = rng.Uint64()
	}
	ix := NewIndex(hashes, 8)
	for range 50 {
		q := rng.Uint64()
		for _, k := range []int{0, 1, 3, 10} {
			got := ix.Nearest(q, k)
			all := bruteForce(hashes, q, 64, nil)
			slices.SortStableFunc(all, func(a, b Hit) int { return a.Distance - b.Distance })
			want := all[:k]
			if k == 0 {
				want = nil
			}
			if !slices.Equal(got, want) {
				t.Fatalf("Nearest(%016x, %d) = %v, want %v", q, k, got, want)
			}
		}
	}
}

func TestMasksUpTo(t *testing.T) {
	for _, tc := range []struct {
		w    uint
		t    int
		want int
	}{{16, 0, 1}, {16, 1, 17}, {16, 2, 137}, {13, 3, 378}, {4, 9, 16}} {
		got := masksUpTo(tc.w, tc.t)
		if len(got) != tc.want || float64(len(got)) != ballVolume(tc.w, tc.t) {
			t.Errorf("masksUpTo(%d, %d) has %d masks, want %d", tc.w, tc.t, len(got), tc.want)
		}
		seen := map[uint32]bool{}
		for _, m := range got {
			if seen[m] || bits.OnesCount32(m) > tc.t || m >= 1<<tc.w {
				t.Errorf("masksUpTo(%d, %d): bad or repeated mask %b", tc.w, tc.t, m)
			}
			seen[m] = true
		}
	}
}

func TestThresholdsCoverRadius(t *testing.T) {
	for m := 4; m <= 16; m++ {
		widths := make([]uint, m)
		for i := range widths {
			widths[i] = uint(64 / m)
			if i < 64%m {
				widths[i]++
			}
		}
		for r := 0; r <= 64; r++ {
			sum := 0
			for _, th := range thresholds(widths, r) {
				if th < -1 {
					t.Fatalf("m=%d r=%d: threshold %d below -1", m, r, th)
				}
				sum += th + 1
			}
			if sum != r+1 {
				t.Errorf("m=%d r=%d: sum(t+1) = %d, want %d", m, r, sum, r+1)
			}
		}
	}
}

// FuzzIndexEqualsBruteForce lets the fuzzer choose the indexed hashes, the
// query and the radius.
func FuzzIndexEqualsBruteForce(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff"), uint64(0), uint8(6), uint8(0))
	f.Add([]byte("0123456789abcdef01234567"), uint64(0x3031323334353637), uint8(12), uint8(8))
	f.Fuzz(func(t *testing.T, data []byte, q uint64, r, tune uint8) {
		var hashes []uint64
		for len(data) >= 8 {
			hashes = append(hashes, binary.LittleEndian.Uint64(data))
			data = data[8:]
		}
		radius := int(r % 16)
		for _, ix := range []*Index{NewIndex(hashes, int(tune%20)), newIndexChunks(hashes, 4+int(tune%5))} {
			ix.noScan = true
			want := bruteForce(hashes, q, radius, nil)
			if got := sortHits(ix.Search(q, radius, nil)); !slices.Equal(got, want) {
				t.Fatalf("Search(%016x, %d) with %d chunks = %v, want %v", q, radius, ix.Chunks(), got, want)
			}
			var batch []Hit
			ix.SearchBatch([]uint64{q, q}, radius, func(qi int, h Hit) {
				if qi == 1 {
					batch = append(batch, h)
				}
			})
			if got := sortHits(batch); !slices.Equal(got, want) {
				t.Fatalf("SearchBatch(%016x, %d) with %d chunks = %v, want %v", q, radius, ix.Chunks(), got, want)
			}
		}
	})
}

// bruteForce appends to dst every position in hashes within Hamming
// distance r of q, in order: the reference the index is tested against.
func bruteForce(hashes []uint64, q uint64, r int, dst []Hit) []Hit {
	if r < 0 {
		return dst
	}
	return scan(hashes, q, clampRadius(r), dst)
}
