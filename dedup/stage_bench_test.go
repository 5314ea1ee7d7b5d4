package dedup

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/store"
	"weaksup/thumbnail"
	"weaksup/workdir"
)

// benchTestSet is a test set of n images with random view hashes and
// random reference thumbnails.
func benchTestSet(n int) *TestSet {
	rng := rand.New(rand.NewPCG(5, 5))
	ts := &TestSet{Spec: Spec{Name: "bench"}}
	for i := range n {
		sig := Signature{Hashes: make([]uint64, len(Views)), Ref: make([]byte, RefLen)}
		for v := range sig.Hashes {
			sig.Hashes[v] = rng.Uint64()
		}
		for p := range sig.Ref {
			sig.Ref[p] = uint8(rng.IntN(256))
		}
		ts.Images = append(ts.Images, fmt.Sprintf("val/%08d.JPEG", i))
		ts.Hashes, ts.Mirrors, ts.Sigs = append(ts.Hashes, sig.Hashes[0]), append(ts.Mirrors, sig.Hashes[1]), append(ts.Sigs, sig)
	}
	return ts
}

// benchStore opens a store of n ok records with hashes and thumbnails,
// built once and cached under the temporary folder. One record in a
// thousand is a copy of a test image's view (hash within 4 bits, the view's
// thumbnail); every other record is a candidate that fails verification
// (hash within 6..10 bits of a random view, an unrelated thumbnail), which
// is more candidates than photographs give against 100k test images
// (BENCHMARKS.md); one in fifty repeats an earlier record's bytes.
func benchStore(b *testing.B, n int, ts *TestSet) *store.Store {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("weaksup-dedup-bench-store-v2-%d-%d", n, len(ts.Images)))
	done := filepath.Join(dir, "complete")
	if _, err := os.Stat(done); err != nil {
		os.RemoveAll(dir)
		st, err := store.Open(workdir.Dir(dir).Store())
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, uint64(n)))
		batch := st.NewBatch()
		var sha [32]byte
		noise := make([]byte, thumbnail.Len)
		for i := range n {
			if i%50 != 49 || i == 0 {
				var seed [8]byte
				binary.LittleEndian.PutUint64(seed[:], uint64(i))
				sha = sha256.Sum256(seed[:])
			}
			img, v := rng.IntN(len(ts.Images)), rng.IntN(len(Views))
			h, thumb := rng.Uint64(), noise
			switch {
			case i%1000 == 500:
				h = near(rng, ts.Sigs[img].Hashes[v], rng.IntN(5))
				thumb = ts.Sigs[img].viewThumbnail(v)
			case i%2 == 0:
				h = near(rng, ts.Sigs[img].Hashes[v], 6+rng.IntN(5))
				for p := range noise {
					noise[p] = uint8(rng.IntN(256))
				}
			}
			r := &store.Record{ID: fmt.Sprintf("rec%08d", i), Outcome: "ok", PHash: h, SHA256: sha, Thumbnail: thumb}
			if err := batch.PutRecord(r, nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := batch.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	st, err := store.Open(workdir.Dir(dir).Store())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkStage runs the dedup stage over stored records against a test
// set of 100k images (1.2M view hashes) at the default radius and minimum
// score: read hashes, search, read thumbnails and verify, flag drops,
// write the report.
func BenchmarkStage(b *testing.B) {
	for _, n := range []int{1_000_000} {
		b.Run(fmt.Sprintf("records=%dk/testimages=100k", n/1000), func(b *testing.B) {
			ts := benchTestSet(100_000)
			st := benchStore(b, n, ts)
			cfg := DefaultConfig()
			cat := NewCatalog([]*TestSet{ts}, cfg.Radius)
			wd := workdir.Dir(b.TempDir())
			b.ResetTimer()
			cpu := testkit.CPUTime()
			var sum *Summary
			for i := 0; i < b.N; i++ {
				var err error
				if sum, err = runCatalog(context.Background(), st, wd, cat, cfg, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if sum.Records != int64(n) {
				b.Fatalf("searched %d records, want %d", sum.Records, n)
			}
			if sum.DroppedTestSet != int64(n/1000) {
				b.Fatalf("dropped %d test-set copies, want the %d planted", sum.DroppedTestSet, n/1000)
			}
			testkit.ReportRate(b, cpu, b.N*n, "records")
			b.ReportMetric(float64(sum.Candidates)/float64(n), "candidates/record")
			b.ReportMetric(float64(sum.DroppedTestSet), "testset-drops")
			b.ReportMetric(float64(sum.DroppedRepeat), "repeat-drops")
		})
	}
}

// BenchmarkVerify measures deciding one candidate with four views within
// the radius (what photographs give, BENCHMARKS.md): a copy, whose views
// are all correlated, and another image, rejected on colour before any
// view is correlated.
func BenchmarkVerify(b *testing.B) {
	ts := benchTestSet(100)
	cat := NewCatalog([]*TestSet{ts}, DefaultRadius)
	cand := Candidate{Set: 0, Image: 3, Views: []ViewHit{{5, 4}, {2, 6}, {7, 8}, {9, 10}}}
	for _, tc := range []struct {
		name string
		q    Query
		want bool
	}{
		{"copy", NewQuery(ts.Sigs[3].viewThumbnail(5)), true},
		{"other", NewQuery(ts.Sigs[4].viewThumbnail(5)), false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cpu := testkit.CPUTime()
			for b.Loop() {
				if _, ok := cat.Verify(cand, tc.q, DefaultConfig()); ok != tc.want {
					b.Fatalf("verified %v, want %v", ok, tc.want)
				}
			}
			testkit.ReportRate(b, cpu, b.N, "candidates")
		})
	}
}
