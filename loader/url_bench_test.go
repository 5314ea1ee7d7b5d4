package loader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"weaksup/internal/testkit"
	"weaksup/shards/shardstest"
	"weaksup/storage"
	"weaksup/storage/storagetest"
)

// BenchmarkLoaderObjectStorage measures the loader over shards in the fake
// S3 server on loopback, against the same shards on local disk: 8 shards
// of 128 photo-like 256 px JPEGs (about 11 KB each, stored raw), decoded,
// augmented and batched to 64 px by 2 workers. One op is one epoch of rank
// 0 (of 1 or of 2 ranks), through a new loader. Without a cache each rank
// reads its rows' JPEGs in place; "cold" empties the cache before each
// epoch, "warm" keeps it from the epoch before. "+20ms" adds 20 ms before
// every answer, as a service across a network takes to first byte. It
// reports images/s and images per CPU second (the fake's CPU included: it
// runs in this process), and the bytes and requests that went to the
// service per epoch, also as a fraction of the shards' bytes.
func BenchmarkLoaderObjectStorage(b *testing.B) {
	rows := shardstest.Rows(b, 1024, 1000, 256)
	local := shardstest.WriteDir(b, rows, 128, 1000)
	storagetest.Credentials(b)
	ctx := context.Background()
	srv := storagetest.StartS3(b, "data")
	url := srv.URL("data", "shards")
	d, err := storage.Open(ctx, url, srv.Options())
	if err != nil {
		b.Fatal(err)
	}
	shardBytes := uploadShards(b, d, local)
	d.Close()
	for _, tc := range []struct {
		source, cache string
		world         int
	}{
		{"local", "none", 1}, {"s3", "none", 1}, {"s3", "cold", 1}, {"s3", "warm", 1},
		{"s3+20ms", "none", 1}, {"s3+20ms", "cold", 1}, {"s3+20ms", "warm", 1},
		{"local", "none", 2}, {"s3", "none", 2}, {"s3+20ms", "none", 2},
	} {
		b.Run(fmt.Sprintf("source=%s/cache=%s/world=%d", tc.source, tc.cache, tc.world), func(b *testing.B) {
			latency := time.Duration(0)
			if tc.source == "s3+20ms" {
				latency = 20 * time.Millisecond
			}
			srv.Faults.SetLatency(latency)
			defer srv.Faults.SetLatency(0)
			cacheDir := filepath.Join(b.TempDir(), "cache")
			open := func() *storage.Dir {
				loc, opts := local, (*storage.Options)(nil)
				if tc.source != "local" {
					loc, opts = url, srv.Options()
					if tc.cache != "none" {
						c, err := storage.NewCache(cacheDir, 1<<30, nil)
						if err != nil {
							b.Fatal(err)
						}
						opts.Cache = c
					}
				}
				d, err := storage.Open(ctx, loc, opts)
				if err != nil {
					b.Fatal(err)
				}
				return d
			}
			epoch := func(d *storage.Dir) int {
				l, err := OpenIn(ctx, d, Config{Batch: 64, ImageSize: 64, Train: true, Workers: 2, Seed: 1, Epochs: 1, World: tc.world})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				n := 0
				for {
					batch, err := l.Next(ctx)
					if errors.Is(err, io.EOF) {
						return n
					}
					if err != nil {
						b.Fatal(err)
					}
					n += batch.N
					batch.Release()
				}
			}
			if tc.cache == "warm" {
				d := open()
				epoch(d)
				d.Close()
			}
			var images int
			var fetched, requests int64
			b.ResetTimer()
			cpu0 := testkit.CPUTime()
			for range b.N {
				if tc.cache == "cold" {
					b.StopTimer()
					if err := os.RemoveAll(cacheDir); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				d := open()
				images += epoch(d)
				st := d.Stats()
				fetched += st.BytesRead
				requests += st.Requests
				d.Close()
			}
			testkit.ReportRate(b, cpu0, images, "images")
			if tc.source != "local" {
				b.ReportMetric(float64(fetched)/float64(b.N)/(1<<20), "fetched-MiB/epoch")
				b.ReportMetric(float64(fetched)/float64(b.N)/float64(shardBytes), "fetched/shards")
				b.ReportMetric(float64(requests)/float64(b.N), "requests/epoch")
			}
		})
	}
}
