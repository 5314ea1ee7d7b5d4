package loader

import (
	"context"
	"fmt"
	"testing"

	"weaksup/datasets"
	"weaksup/internal/testkit"
	"weaksup/shards/shardstest"
)

// BenchmarkLoader measures shards → float batches: JPEG decode, augment,
// normalize and batching, for photo-like 256 px JPEGs.
func BenchmarkLoader(b *testing.B) {
	rows := shardstest.Rows(b, 512, 1000, 256)
	var bytes int
	for _, r := range rows {
		bytes += len(r.Image)
	}
	dir := shardstest.WriteDir(b, rows, 128, 1000)
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
			testkit.ReportRate(b, cpu0, images, "images")
			b.ReportMetric(float64(bytes)/float64(len(rows)), "jpeg-bytes")
		})
	}
}

// BenchmarkCIFARLoader measures a CIFAR split in memory → float batches
// with the CIFAR augmentation (pad 4, random 32×32 crop, flip, per-channel
// normalization): no decoding, no resampling.
func BenchmarkCIFARLoader(b *testing.B) {
	dir := b.TempDir()
	recs := make([]datasets.CIFARRecord, 5000)
	for i := range recs {
		recs[i].Label = uint8(i % 10)
		copy(recs[i].Pixels[:], planarTestImage(uint64(i), 32, 32).Pix)
	}
	if _, err := datasets.WriteCIFAR10(dir, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, recs, recs[:10]); err != nil {
		b.Fatal(err)
	}
	ds, err := datasets.OpenCIFAR10(dir)
	if err != nil {
		b.Fatal(err)
	}
	split, err := ds.Split(datasets.SplitTrain)
	if err != nil {
		b.Fatal(err)
	}
	src, err := NewSplitSource(split, 10)
	if err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			tf := NewCIFARTransform(32, true, CIFAR10Mean, CIFAR10Std)
			b.ResetTimer()
			cpu0 := testkit.CPUTime()
			l, err := New(src, Config{Batch: 128, ImageSize: 32, Train: true, Workers: workers, Seed: 1, Targets: TargetsNone, Transform: &tf})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			images := 0
			for i := 0; i < b.N; i++ {
				batch, err := l.Next(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				images += batch.N
				batch.Release()
			}
			testkit.ReportRate(b, cpu0, images, "images")
		})
	}
}
