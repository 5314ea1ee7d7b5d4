package loader

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/shards"
	"weaksup/shards/shardstest"
	"weaksup/storage"
	"weaksup/storage/storagetest"
)

// uploadShards copies a local shard directory's files to d.
func uploadShards(t testing.TB, d *storage.Dir, local string) (shardBytes int64) {
	t.Helper()
	ents, err := os.ReadDir(local)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if err := d.Upload(context.Background(), e.Name(), filepath.Join(local, e.Name())); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".arrow") {
			info, _ := e.Info()
			shardBytes += info.Size()
		}
	}
	return shardBytes
}

// Two ranks reading shards from object storage get the batches they get
// from a local directory, bit for bit, and each fetches about half of the
// image bytes (plus every shard's index columns): its share, not the
// whole files. Through a cache the two ranks share (two Caches on one
// directory, as two processes of a host have), the host fetches each
// byte once, and a second epoch fetches nothing.
func TestLoaderFromObjectStorage(t *testing.T) {
	// 96 px JPEGs of quality 98, about 6 KB, which a shard stores raw as
	// it does photographs of a few tens of kilobytes (small JPEGs, whose
	// identical header tables zstd shrinks by more than 10%, make a shard
	// store its image column compressed, to be read a record batch at a
	// time: see package shards).
	rows := shardstest.Rows(t, 120, 12, 8)
	for i := range rows {
		rows[i].Image = testkit.PhotoJPEG(t, uint64(i), 96, 96, 98)
	}
	local := shardstest.WriteDir(t, rows, 40, 12)
	var images int64
	for _, r := range rows {
		images += int64(len(r.Image))
	}
	cfg := func(rank int) Config {
		return Config{Batch: 16, ImageSize: 16, Train: true, Seed: 4, Rank: rank, World: 2, Epochs: 1,
			Workers: 2, ShuffleBuffer: 100, Sampling: SamplingNatural, NoiseP: 0.1}
	}
	want := make([]seen, 2)
	for rank := range want {
		l, err := Open(local, cfg(rank))
		if err != nil {
			t.Fatal(err)
		}
		if want[rank], err = drain(t, l, -1); !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		l.Close()
	}
	for name, start := range map[string]func(testing.TB, ...string) *storagetest.Server{"s3": storagetest.StartS3, "gcs": storagetest.StartGCS} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			srv := start(t, "data")
			storagetest.Credentials(t)
			url := srv.URL("data", "run/shards")
			up, err := storage.Open(ctx, srv.URL("data", ""), srv.Options())
			if err != nil {
				t.Fatal(err)
			}
			defer up.Close()
			sub, _ := up.Sub("run/shards")
			shardBytes := uploadShards(t, sub, local)
			index := shardBytes - images

			read := func(rank int, opts *storage.Options) (seen, storage.Stats) {
				d, err := storage.Open(ctx, url, opts)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				l, err := OpenIn(ctx, d, cfg(rank))
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				s, err := drain(t, l, -1)
				if !errors.Is(err, io.EOF) {
					t.Fatalf("rank %d from %s: %v", rank, url, err)
				}
				return s, d.Stats()
			}
			for rank := range 2 {
				got, st := read(rank, srv.Options())
				if !reflect.DeepEqual(got, want[rank]) {
					t.Fatalf("rank %d: the batches from %s differ from the local directory's", rank, url)
				}
				// Its half of the images, every shard's index columns, the
				// manifest, and at most 16 KiB at each shard's end (its
				// footer's read).
				lo, hi := images/2, images/2+index+int64(len(rows)/40)*16<<10+16<<10
				t.Logf("rank %d fetched %d bytes: images %d, shards %d", rank, st.BytesRead, images, shardBytes)
				if st.BytesRead < lo || st.BytesRead > hi {
					t.Fatalf("rank %d fetched %d bytes of shards of %d (images %d); want its share: between %d and %d", rank, st.BytesRead, shardBytes, images, lo, hi)
				}
			}

			if name != "s3" {
				return // the cache is the same over either service
			}
			cacheDir := t.TempDir()
			var fetched int64
			for epoch := range 2 {
				for rank := range 2 {
					c, err := storage.NewCache(cacheDir, 1<<30, nil)
					if err != nil {
						t.Fatal(err)
					}
					opts := srv.Options()
					opts.Cache = c
					got, _ := read(rank, opts)
					if !reflect.DeepEqual(got, want[rank]) {
						t.Fatalf("rank %d through the cache: the batches differ from the local directory's", rank)
					}
					if epoch == 1 && c.Stats().BytesFetched != 0 {
						t.Fatalf("rank %d fetched %d bytes with a warm cache", rank, c.Stats().BytesFetched)
					}
					fetched += c.Stats().BytesFetched
				}
			}
			manifest, _ := os.Stat(filepath.Join(local, shards.ManifestName))
			if fetched < shardBytes || fetched > shardBytes+manifest.Size() {
				t.Fatalf("two ranks through one cache fetched %d bytes; want the shards' %d once (and the manifest's %d)", fetched, shardBytes, manifest.Size())
			}
		})
	}
}

// A missing shard directory, a missing shard and a refused request are
// errors naming the URL; a loader through a failing service is retried and
// yields the same batches.
func TestLoaderFromObjectStorageErrors(t *testing.T) {
	rows := shardstest.Rows(t, 96, 6, 16)
	local := shardstest.WriteDir(t, rows, 32, 6)
	srv := storagetest.StartS3(t, "data")
	srv.Env(t)
	ctx := context.Background()
	url := srv.URL("data", "shards")

	if _, err := Open(url, Config{Batch: 8, ImageSize: 8}); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), url+"/manifest.json") {
		t.Fatalf("open a loader over an empty prefix: %v; want an error naming %s/manifest.json", err, url)
	}
	d, err := storage.Open(ctx, url, srv.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	uploadShards(t, d, local)
	c := Config{Batch: 8, ImageSize: 8, Train: true, Seed: 2, Epochs: 1, Workers: 2}
	lw, err := Open(local, c)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := drain(t, lw, -1)
	lw.Close()

	p := storagetest.Pass
	srv.Faults.Set(storagetest.Reads(p, storagetest.ServerError, p, storagetest.Truncate, p, storagetest.SlowDown, p, storagetest.Shorten))
	l, err := Open(url, c) // the storage defaults: backoff from 200 ms
	if err != nil {
		t.Fatal(err)
	}
	got, err := drain(t, l, -1)
	l.Close()
	if !errors.Is(err, io.EOF) || !reflect.DeepEqual(got, want) {
		t.Fatalf("through a failing service: %v, same batches %v", err, reflect.DeepEqual(got, want))
	}
	if srv.Faults.Injected(storagetest.Truncate) == 0 {
		t.Fatal("no fault injected")
	}

	srv.Faults.Set(func(r *http.Request, _ int) storagetest.Fault {
		if strings.HasSuffix(r.URL.Path, ".arrow") {
			return storagetest.Refuse
		}
		return storagetest.Pass
	})
	l, err = Open(url, c)
	if err == nil {
		_, err = drain(t, l, -1)
		l.Close()
	}
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), url+"/shard-0000") {
		t.Fatalf("read with refused requests: %v; want a permission error naming a shard of %s", err, url)
	}
	srv.Faults.Set(nil)

	if err := d.Delete(ctx, "shard-00001.arrow"); err != nil {
		t.Fatal(err)
	}
	l, err = Open(url, c)
	if err == nil {
		_, err = drain(t, l, -1)
		l.Close()
	}
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), url+"/shard-00001.arrow") {
		t.Fatalf("read with a shard missing: %v; want an error naming %s/shard-00001.arrow", err, url)
	}
}
