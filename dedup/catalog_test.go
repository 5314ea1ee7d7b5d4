package dedup

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestCatalogFoldsMirrors(t *testing.T) {
	// Image 0's hash and mirror are 2 bits apart, so a query near both
	// must report image 0 once, at the nearer orientation.
	a := &TestSet{Spec: Spec{Name: "a"}, Images: []string{"x.jpg", "y.jpg"}, Hashes: []uint64{0xff, 0xf0f0f0f0f0f0f0f0}, Mirrors: []uint64{0xfc, 0x0f0f}}
	b := &TestSet{Spec: Spec{Name: "b"}, Images: []string{"z.jpg"}, Hashes: []uint64{0xfe}, Mirrors: []uint64{1 << 40}}
	c := NewCatalog([]*TestSet{a, b}, 4)
	if c.Len() != 6 {
		t.Fatalf("Len = %d, want 6", c.Len())
	}
	for _, tc := range []struct {
		q    uint64
		r    int
		want []Match
	}{
		{0xfc, 0, []Match{{"a", "x.jpg", 0, true}}},
		{0xff, 2, []Match{{"a", "x.jpg", 0, false}, {"b", "z.jpg", 1, false}}},
		{0xfd, 1, []Match{{"a", "x.jpg", 1, false}}}, // hash and mirror tie: the unmirrored one
		{1<<40 | 1, 1, []Match{{"b", "z.jpg", 1, true}}},
		{0x0f0f0f, 0, nil},
	} {
		_, got := c.Search(tc.q, tc.r, nil, nil)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Search(%x, %d) = %v, want %v", tc.q, tc.r, got, tc.want)
		}
		var batch []Match
		c.SearchBatch([]uint64{tc.q}, tc.r, 1, func(q int, m []Match) { batch = append(batch, m...) })
		if !slices.Equal(batch, tc.want) {
			t.Errorf("SearchBatch(%x, %d) = %v, want %v", tc.q, tc.r, batch, tc.want)
		}
	}
}

// TestCatalogBatchEqualsSearch checks the parallel batch search, parts and
// all, against one query at a time.
func TestCatalogBatchEqualsSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	ts := &TestSet{Spec: Spec{Name: "s"}}
	for i := range 3000 {
		ts.Images = append(ts.Images, string(rune('a'+i%26)))
		ts.Hashes = append(ts.Hashes, rng.Uint64())
		ts.Mirrors = append(ts.Mirrors, rng.Uint64())
	}
	c := NewCatalog([]*TestSet{ts}, DefaultRadius)
	queries := make([]uint64, 600_000)
	for i := range queries {
		queries[i] = rng.Uint64()
		if i%100 == 0 {
			queries[i] = near(rng, ts.Hashes[rng.IntN(len(ts.Hashes))], rng.IntN(9))
		}
	}
	var want [][]Match
	var wantQ []int
	for qi, q := range queries {
		if _, m := c.Search(q, DefaultRadius, nil, nil); len(m) > 0 {
			want, wantQ = append(want, m), append(wantQ, qi)
		}
	}
	var got [][]Match
	var gotQ []int
	c.SearchBatch(queries, DefaultRadius, 2, func(q int, m []Match) {
		got, gotQ = append(got, slices.Clone(m)), append(gotQ, q)
	})
	if len(wantQ) < 1000 || !slices.Equal(gotQ, wantQ) {
		t.Fatalf("SearchBatch matched %d queries, Search %d (want the same, over 1000)", len(gotQ), len(wantQ))
	}
	for i := range got {
		slices.SortFunc(got[i], func(a, b Match) int { return a.Distance - b.Distance })
		slices.SortFunc(want[i], func(a, b Match) int { return a.Distance - b.Distance })
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("query %d: SearchBatch = %v, Search = %v", gotQ[i], got[i], want[i])
		}
	}
}
