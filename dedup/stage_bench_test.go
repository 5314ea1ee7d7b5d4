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

	"weaksup/store"
	"weaksup/workdir"
)

// benchStore opens a store of n ok records with hashes, built once and
// cached under the temporary folder: one record in a thousand is a near
// copy (distance <= 4) of a test hash and one in fifty repeats an earlier
// record's bytes.
func benchStore(b *testing.B, n int, test []uint64) *store.Store {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("weaksup-dedup-bench-store-v1-%d", n))
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
		for i := range n {
			if i%50 != 49 || i == 0 {
				var seed [8]byte
				binary.LittleEndian.PutUint64(seed[:], uint64(i))
				sha = sha256.Sum256(seed[:])
			}
			h := rng.Uint64()
			if i%1000 == 500 {
				h = near(rng, test[rng.IntN(len(test))], rng.IntN(5))
			}
			r := &store.Record{ID: fmt.Sprintf("rec%08d", i), Outcome: "ok", PHash: h, SHA256: sha}
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
// set of 50k images (100k hashes with mirrors): read hashes, search,
// flag drops, write the report.
func BenchmarkStage(b *testing.B) {
	for _, n := range []int{1_000_000} {
		b.Run(fmt.Sprintf("records=%dk/testimages=50k", n/1000), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(5, 5))
			ts := &TestSet{Spec: Spec{Name: "bench"}}
			for i := range 50_000 {
				ts.Images = append(ts.Images, fmt.Sprintf("val/%08d.JPEG", i))
				ts.Hashes = append(ts.Hashes, rng.Uint64())
				ts.Mirrors = append(ts.Mirrors, rng.Uint64())
			}
			st := benchStore(b, n, ts.Hashes)
			cfg := DefaultConfig()
			cat := NewCatalog([]*TestSet{ts}, cfg.Radius)
			wd := workdir.Dir(b.TempDir())
			b.ResetTimer()
			cpu := cpuTime()
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
			reportRate(b, b.N*n, cpu, "records")
			b.ReportMetric(float64(sum.DroppedTestSet), "testset-drops")
			b.ReportMetric(float64(sum.DroppedRepeat), "repeat-drops")
		})
	}
}
