package dedup

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func TestCatalogGroupsViews(t *testing.T) {
	// Set a is built from hashes alone (image and mirror); set b has
	// signatures, every view hashed.
	a := &TestSet{Spec: Spec{Name: "a"}, Images: []string{"x.jpg", "y.jpg"}, Hashes: []uint64{0xff, 0xf0f0f0f0f0f0f0f0}, Mirrors: []uint64{0xfc, 0x0f0f}}
	sig := Signature{Hashes: make([]uint64, len(Views))}
	for v := range sig.Hashes {
		sig.Hashes[v] = 1<<40 | uint64(v)<<48
	}
	sig.Hashes[3] = 0xfe
	b := &TestSet{Spec: Spec{Name: "b"}, Images: []string{"z.jpg"}, Hashes: sig.Hashes[:1], Mirrors: sig.Hashes[1:2], Sigs: []Signature{sig}}
	c := NewCatalog([]*TestSet{a, b}, 4)
	if c.Len() != 4+len(Views) {
		t.Fatalf("Len = %d, want %d", c.Len(), 4+len(Views))
	}
	for _, tc := range []struct {
		q    uint64
		r    int
		want []Candidate
	}{
		{0xfc, 0, []Candidate{{0, 0, []ViewHit{{1, 0}}}}},
		{0xff, 2, []Candidate{{0, 0, []ViewHit{{0, 0}, {1, 2}}}, {1, 0, []ViewHit{{3, 1}}}}},
		{1 << 40, 1, []Candidate{{1, 0, []ViewHit{{0, 0}, {1, 1}, {2, 1}, {4, 1}, {8, 1}}}}},
		{0x0f0f0f, 0, nil},
	} {
		_, got := c.Search(tc.q, tc.r, nil, nil)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Search(%x, %d) = %v, want %v", tc.q, tc.r, got, tc.want)
		}
		var batch []Candidate
		c.SearchBatch([]uint64{tc.q}, tc.r, 1, func(q int, cs []Candidate) {
			for _, x := range cs {
				x.Views = slices.Clone(x.Views)
				batch = append(batch, x)
			}
		})
		if !reflect.DeepEqual(batch, tc.want) {
			t.Errorf("SearchBatch(%x, %d) = %v, want %v", tc.q, tc.r, batch, tc.want)
		}
	}
	near := c.Nearest(0xfd, 2)
	if len(near) != 2 || near[0].Set != 0 || near[0].Image != 0 || near[0].Views[0].Distance != 1 || near[1].Set != 1 {
		t.Errorf("Nearest(0xfd, 2) = %v, want a:x.jpg at 1 then b:z.jpg", near)
	}
}

// TestCatalogBatchEqualsSearch checks the parallel batch search, parts and
// all, against one query at a time.
func TestCatalogBatchEqualsSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	ts := &TestSet{Spec: Spec{Name: "s"}}
	for i := range 3000 {
		ts.Images = append(ts.Images, string(rune('a'+i%26)))
		sig := Signature{Hashes: make([]uint64, len(Views))}
		for v := range sig.Hashes {
			sig.Hashes[v] = rng.Uint64()
		}
		ts.Hashes = append(ts.Hashes, sig.Hashes[0])
		ts.Mirrors = append(ts.Mirrors, sig.Hashes[1])
		ts.Sigs = append(ts.Sigs, sig)
	}
	c := NewCatalog([]*TestSet{ts}, DefaultRadius)
	queries := make([]uint64, 400_000)
	for i := range queries {
		queries[i] = rng.Uint64()
		if i%100 == 0 {
			queries[i] = near(rng, ts.Sigs[rng.IntN(len(ts.Sigs))].Hashes[rng.IntN(len(Views))], rng.IntN(13))
		}
	}
	var want [][]Candidate
	var wantQ []int
	for qi, q := range queries {
		if _, m := c.Search(q, DefaultRadius, nil, nil); len(m) > 0 {
			want, wantQ = append(want, m), append(wantQ, qi)
		}
	}
	var got [][]Candidate
	var gotQ []int
	c.SearchBatch(queries, DefaultRadius, 2, func(q int, cs []Candidate) {
		var own []Candidate
		for _, x := range cs {
			x.Views = slices.Clone(x.Views)
			own = append(own, x)
		}
		got, gotQ = append(got, own), append(gotQ, q)
	})
	if len(wantQ) < 1000 || !slices.Equal(gotQ, wantQ) {
		t.Fatalf("SearchBatch matched %d queries, Search %d (want the same, over 1000)", len(gotQ), len(wantQ))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("query %d: SearchBatch = %v, Search = %v", gotQ[i], got[i], want[i])
		}
	}
}
