package loader

import (
	"context"
	"fmt"
	"testing"
	"weaksup/internal/testkit"
)

// BenchmarkLoader measures shards → float batches: JPEG decode, augment,
// normalize and batching, for photo-like 256 px JPEGs.
func BenchmarkLoader(b *testing.B) {
	rows := testRows(b, 512, 1000, 256)
	var bytes int
	for _, r := range rows {
		bytes += len(r.Image)
	}
	dir := writeTestDir(b, rows, 128, 1000)
	for _, tc := range []struct {
		size, workers int
		train         bool
	}{{64, 2, true}, {64, 2, false}, {64, 1, true}, {224, 2, true}} {
		name := fmt.Sprintf("jpeg=256/size=%d/workers=%d/train=%v", tc.size, tc.workers, tc.train)
		b.Run(name, func(b *testing.B) {
			// The loader starts inside the timed region: it decodes ahead
			// from the moment it opens, and that work must be counted.
			b.ResetTimer()
			cpu0 := testkit.CPUTime()
			l, err := Open(dir, Config{Batch: 64, ImageSize: tc.size, Train: tc.train, Workers: tc.workers, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			ctx := context.Background()
			images := 0
			for i := 0; i < b.N; i++ {
				batch, err := l.Next(ctx)
				if err != nil {
					b.Fatal(err)
				}
				images += batch.N
				batch.Release()
			}
			if cpu := (testkit.CPUTime() - cpu0).Seconds(); cpu > 0 {
				b.ReportMetric(float64(images)/cpu, "images/cpu-s")
			}
			b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
			b.ReportMetric(float64(bytes)/float64(len(rows)), "jpeg-bytes")
		})
	}
}
