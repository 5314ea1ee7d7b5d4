package shards

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"weaksup/canonicalize"
	"weaksup/internal/testkit"
	"weaksup/store"
	"weaksup/workdir"
)

// BenchmarkStage measures the whole shards stage: reading records and
// images from the Badger store, Arrow encoding, hashing, syncing and the
// directory swap. Images are incompressible bytes behind a JPEG marker.
func BenchmarkStage(b *testing.B) {
	const n, kb = 4000, 20
	wd := workdir.Dir(b.TempDir())
	var entries []canonicalize.Entry
	for i := range 100 {
		entries = append(entries, canonicalize.Entry{ID: int32(i), Tag: fmt.Sprintf("tag%d", i), WNID: fmt.Sprintf("n%08d", i+1)})
	}
	v, err := canonicalize.NewVocabulary(entries)
	if err != nil {
		b.Fatal(err)
	}
	if err := v.WriteFile(wd.Vocab()); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(wd.Store())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	r := rand.New(rand.NewPCG(1, 1))
	batch := st.NewBatch()
	for i := range n {
		img := make([]byte, kb<<10)
		for j := range img {
			img[j] = byte(r.Uint32())
		}
		img[0], img[1] = 0xff, 0xd8
		id := fmt.Sprintf("rec%07d", i)
		rec := &store.Record{ID: id, URL: "https://example.org/" + id + ".jpg", RawTags: []string{"#dog", "#sunset"}, Outcome: store.OutcomeOK, Width: 256, Height: 256}
		if err := batch.PutRecord(rec, img); err != nil {
			b.Fatal(err)
		}
		if err := batch.PutLabels(id, store.Labels{Tags: []string{"tag1", "tag2"}, IDs: []int32{int32(i % 100), int32((i + 7) % 100)}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := batch.Flush(); err != nil {
		b.Fatal(err)
	}
	total := float64(n * kb << 10)
	b.Run(fmt.Sprintf("records=%d/image=%dkB/shard-mb=32", n, kb), func(b *testing.B) {
		cfg := DefaultConfig()
		cfg.ShardMB = 32
		b.ResetTimer()
		cpu0 := testkit.CPUTime()
		for i := 0; i < b.N; i++ {
			if _, err := Run(context.Background(), st, wd, cfg, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(total*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
		if cpu := (testkit.CPUTime() - cpu0).Seconds(); cpu > 0 {
			b.ReportMetric(total*float64(b.N)/1e6/cpu, "MB/cpu-s")
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}
