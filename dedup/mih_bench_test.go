package dedup

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"weaksup/internal/testkit"
)

// benchHashes returns n index hashes and a query stream in which one query
// in a hundred is a near copy (distance 0..6) of an indexed hash, as crawled
// copies of test images are.
func benchHashes(n, queries int) (index, query []uint64) {
	rng := rand.New(rand.NewPCG(42, uint64(n)))
	index = make([]uint64, n)
	for i := range index {
		index[i] = rng.Uint64()
	}
	query = make([]uint64, queries)
	for i := range query {
		if i%100 == 0 {
			query[i] = near(rng, index[rng.IntN(n)], rng.IntN(7))
		} else {
			query[i] = rng.Uint64()
		}
	}
	return index, query
}

func benchName(r, n int) string {
	size := fmt.Sprint(n)
	if n%1000 == 0 {
		size = fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprintf("radius=%d/index=%s", r, size)
}

// BenchmarkMIH measures queries per second of one goroutine against an
// index of test hashes.
func BenchmarkMIH(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, r := range []int{4, 6, 8, 10, 12} {
			b.Run(benchName(r, n), func(b *testing.B) {
				index, queries := benchHashes(n, 1<<16)
				ix := NewIndex(index, r)
				ix.Search(0, r, nil) // build the radius plan outside the timer
				var hits []Hit
				b.ResetTimer()
				cpu := testkit.CPUTime()
				for i := 0; i < b.N; i++ {
					hits = ix.Search(queries[i&(len(queries)-1)], r, hits[:0])
				}
				testkit.ReportRate(b, cpu, b.N, "queries")
				b.ReportMetric(float64(ix.Chunks()), "chunks")
			})
		}
	}
}

// BenchmarkMIHBatch measures queries per second of one goroutine answering
// a batch of 1M queries with SearchBatch, as the dedup stage does.
func BenchmarkMIHBatch(b *testing.B) {
	for _, n := range []int{100_000} {
		for _, r := range []int{4, 6, 8, 10} {
			b.Run(benchName(r, n)+"/batch=1M", func(b *testing.B) {
				index, queries := benchHashes(n, 1<<20)
				ix := NewIndex(index, r)
				hits := 0
				b.ResetTimer()
				cpu := testkit.CPUTime()
				for i := 0; i < b.N; i++ {
					ix.SearchBatch(queries, r, func(int, Hit) { hits++ })
				}
				testkit.ReportRate(b, cpu, b.N*len(queries), "queries")
				b.ReportMetric(float64(ix.Chunks()), "chunks")
			})
		}
	}
}

// BenchmarkBruteForce is the linear scan the index replaces.
func BenchmarkBruteForce(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, r := range []int{DefaultRadius} {
			b.Run(benchName(r, n), func(b *testing.B) {
				index, queries := benchHashes(n, 1<<16)
				var hits []Hit
				b.ResetTimer()
				cpu := testkit.CPUTime()
				for i := 0; i < b.N; i++ {
					hits = bruteForce(index, queries[i&(len(queries)-1)], r, hits[:0])
				}
				testkit.ReportRate(b, cpu, b.N, "queries")
			})
		}
	}
}
