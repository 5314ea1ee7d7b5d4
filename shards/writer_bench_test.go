package shards_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/shards"
	"weaksup/shards/shardstest"
)

// BenchmarkShardWrite measures Arrow encoding, zstd on the metadata, hashing
// and writing one synced shard file. The writer never decodes images, so the
// image bytes are random (incompressible, like JPEG) of the given size.
func BenchmarkShardWrite(b *testing.B) {
	for _, tc := range []struct{ rows, kb int }{{512, 20}, {4096, 20}} {
		rows := shardstest.Rows(b, tc.rows, 1000, 8)
		r := rand.New(rand.NewPCG(3, 4))
		var total int64
		for i := range rows {
			img := make([]byte, tc.kb<<10)
			for j := range img {
				img[j] = byte(r.Uint32())
			}
			rows[i].Image = img
			total += int64(len(img))
		}
		b.Run(fmt.Sprintf("image=%dkB/rows=%d", tc.kb, tc.rows), func(b *testing.B) {
			dir := b.TempDir()
			b.SetBytes(total)
			b.ResetTimer()
			cpu0 := testkit.CPUTime()
			for i := 0; i < b.N; i++ {
				w, err := shards.CreateShard(filepath.Join(dir, "bench.arrow"))
				if err != nil {
					b.Fatal(err)
				}
				for j := range rows {
					if err := w.Append(&rows[j]); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
			if cpu := (testkit.CPUTime() - cpu0).Seconds(); cpu > 0 {
				b.ReportMetric(float64(total)*float64(b.N)/1e6/cpu, "MB/cpu-s")
			}
			b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
