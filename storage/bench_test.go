package storage_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"weaksup/storage"
	"weaksup/storage/storagetest"
)

// BenchmarkRead reads shard-sized objects the way an Arrow IPC reader
// does: the footer at the end first, then the file front to back in
// row-sized ranged reads (128 KiB, a large JPEG). From a local directory,
// and from the fake S3 and GCS servers on loopback without a cache, with a
// cold cache (emptied before each pass) and with a warm one; and from the
// fake S3 with 20 ms added to every request, as a service across a network
// takes to answer. It reports MB/s, and the bytes and requests that went
// to the service per pass.
func BenchmarkRead(b *testing.B) {
	const (
		objects = 4
		size    = 8 << 20
		piece   = 128 << 10
	)
	storagetest.Credentials(b)
	ctx := context.Background()
	data := randomBytes(size, 1)
	setup := func(b *testing.B, d *storage.Dir) {
		for i := range objects {
			if err := d.WriteFile(ctx, fmt.Sprintf("shard-%05d.arrow", i), data); err != nil {
				b.Fatal(err)
			}
		}
	}
	readAll := func(b *testing.B, d *storage.Dir) {
		p := make([]byte, piece)
		for i := range objects {
			o, err := d.Open(ctx, fmt.Sprintf("shard-%05d.arrow", i))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := o.ReadAt(p[:64<<10], o.Size()-64<<10); err != nil {
				b.Fatal(err)
			}
			for off := int64(0); off < o.Size(); off += piece {
				n := min(piece, o.Size()-off)
				if _, err := o.ReadAt(p[:n], off); err != nil {
					b.Fatal(err)
				}
			}
			o.Close()
		}
	}
	// run reads everything b.N times from *d; before, if set, runs
	// untimed ahead of each pass and may replace *d.
	run := func(b *testing.B, d **storage.Dir, before func()) {
		readAll(b, *d) // warm the connections (and the cache, for warm)
		var fetched, requests int64
		b.SetBytes(objects * size)
		b.ResetTimer()
		for range b.N {
			if before != nil {
				b.StopTimer()
				before()
				b.StartTimer()
			}
			s0 := (*d).Stats()
			readAll(b, *d)
			s := (*d).Stats()
			fetched += s.BytesRead - s0.BytesRead
			requests += s.Requests - s0.Requests
		}
		b.StopTimer()
		b.ReportMetric(float64(fetched)/float64(b.N)/(1<<20), "fetched-MiB/op")
		b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
	}

	b.Run("source=local", func(b *testing.B) {
		d, err := storage.Create(ctx, b.TempDir(), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		setup(b, d)
		run(b, &d, nil)
	})
	type source struct {
		name    string
		start   func(testing.TB, ...string) *storagetest.Server
		latency time.Duration
	}
	sources := []source{{"s3", storagetest.StartS3, 0}, {"gcs", storagetest.StartGCS, 0}, {"s3+20ms", storagetest.StartS3, 20 * time.Millisecond}}
	for _, svc := range sources {
		for _, mode := range []string{"none", "cold", "warm"} {
			b.Run("source="+svc.name+"/cache="+mode, func(b *testing.B) {
				srv := svc.start(b, "data")
				srv.Faults.SetLatency(svc.latency)
				opts := srv.Options()
				opts.StallTimeout = 0 // the default: a busy machine is no stall
				cacheDir := filepath.Join(b.TempDir(), "cache")
				var before func()
				if mode != "none" {
					c, err := storage.NewCache(cacheDir, 1<<30, nil)
					if err != nil {
						b.Fatal(err)
					}
					opts.Cache = c
				}
				d, err := storage.Create(ctx, srv.URL("data", "shards"), opts)
				if err != nil {
					b.Fatal(err)
				}
				defer d.Close()
				setup(b, d)
				if mode == "cold" {
					before = func() {
						// A new cache each pass, over an emptied directory.
						if err := os.RemoveAll(cacheDir); err != nil {
							b.Fatal(err)
						}
						c, err := storage.NewCache(cacheDir, 1<<30, nil)
						if err != nil {
							b.Fatal(err)
						}
						o := *opts
						o.Cache = c
						d.Close()
						d, err = storage.Create(ctx, srv.URL("data", "shards"), &o)
						if err != nil {
							b.Fatal(err)
						}
					}
				}
				run(b, &d, before)
			})
		}
	}
}
