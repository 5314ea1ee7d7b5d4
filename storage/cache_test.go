package storage_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"weaksup/storage"
	"weaksup/storage/storagetest"
)

// cached opens srv's bucket "data" with a cache of limit bytes in blocks
// of 64 KiB.
func cached(t *testing.T, srv *storagetest.Server, dir string, limit int64, readAhead int) (*storage.Dir, *storage.Cache) {
	t.Helper()
	c, err := storage.NewCache(dir, limit, &storage.CacheOptions{BlockSize: 64 << 10, ReadAhead: readAhead})
	if err != nil {
		t.Fatal(err)
	}
	opts := srv.Options()
	opts.Cache = c
	d, err := storage.Create(ctxT(t), srv.URL("data", "shards"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, c
}

// With a cache large enough, every byte crosses the network once, however
// often and in whatever order it is read.
func TestCacheFetchesOnce(t *testing.T) {
	for _, svc := range services() {
		t.Run(svc.name, func(t *testing.T) {
			ctx := ctxT(t)
			srv := svc.start(t, "data")
			storagetest.Credentials(t)
			d, c := cached(t, srv, t.TempDir(), 64<<20, -1)
			data := randomBytes(1<<20+333, 3)
			if err := d.WriteFile(ctx, "shard-00000.arrow", data); err != nil {
				t.Fatal(err)
			}
			for pass := range 3 {
				o, err := d.Open(ctx, "shard-00000.arrow")
				if err != nil {
					t.Fatal(err)
				}
				r := rand.New(rand.NewPCG(uint64(pass), 7))
				for range 50 {
					off := r.Int64N(int64(len(data)))
					p := make([]byte, min(r.IntN(100_000)+1, len(data)-int(off)))
					if n, err := o.ReadAt(p, off); err != nil || n != len(p) || !bytes.Equal(p, data[off:off+int64(n)]) {
						t.Fatalf("pass %d: ReadAt(%d at %d): %d, %v (or wrong bytes)", pass, len(p), off, n, err)
					}
				}
				full := make([]byte, len(data))
				if _, err := o.ReadAt(full, 0); err != nil || !bytes.Equal(full, data) {
					t.Fatalf("pass %d: full read: %v (or wrong bytes)", pass, err)
				}
				o.Close()
			}
			st := c.Stats()
			if got := d.Stats().BytesRead; got != int64(len(data)) {
				t.Fatalf("%d bytes fetched from the service for a %d-byte object read 3 times; want each once", got, len(data))
			}
			if blocks := int64(len(data)+(64<<10)-1) / (64 << 10); st.Misses != blocks || st.BytesFetched != int64(len(data)) {
				t.Fatalf("cache stats %+v; want %d misses, %d bytes fetched", st, blocks, len(data))
			}
			if st.Hits == 0 {
				t.Fatalf("cache stats %+v: no hits", st)
			}
		})
	}
}

// Goroutines reading the same object at once fetch each block once, and
// so do two processes sharing one cache directory (two Caches here, which
// take the same file locks).
func TestCacheConcurrent(t *testing.T) {
	ctx := ctxT(t)
	srv := storagetest.StartS3(t, "data")
	storagetest.Credentials(t)
	dir := t.TempDir()
	d1, c1 := cached(t, srv, dir, 64<<20, 2)
	d2, c2 := cached(t, srv, dir, 64<<20, 2)
	data := randomBytes(2<<20, 4)
	if err := d1.WriteFile(ctx, "shard-00001.arrow", data); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		d := d1
		if g%2 == 1 {
			d = d2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := d.Open(ctx, "shard-00001.arrow")
			if err != nil {
				errs <- err
				return
			}
			defer o.Close()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 40 {
				off := r.Int64N(int64(len(data)))
				p := make([]byte, min(r.IntN(200_000)+1, len(data)-int(off)))
				if _, err := o.ReadAt(p, off); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(p, data[off:off+int64(len(p))]) {
					errs <- io.ErrShortBuffer
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent read: %v", err)
	}
	if got := d1.Stats().BytesRead + d2.Stats().BytesRead; got > int64(len(data)) {
		t.Fatalf("%d bytes fetched for a %d-byte object; want each byte at most once", got, len(data))
	}
	if m := c1.Stats().Misses + c2.Stats().Misses; m > 32 {
		t.Fatalf("%d blocks fetched of 32", m)
	}
}

// A cache smaller than the data stays under its limit and still serves
// every byte right.
func TestCacheEvicts(t *testing.T) {
	ctx := ctxT(t)
	srv := storagetest.StartGCS(t, "data")
	storagetest.Credentials(t)
	dir := t.TempDir()
	const limit = 256 << 10 // four blocks
	d, c := cached(t, srv, dir, limit, 2)
	var objs [][]byte
	for i := range 3 {
		objs = append(objs, randomBytes(600_000, uint64(i)))
		if err := d.WriteFile(ctx, name(i), objs[i]); err != nil {
			t.Fatal(err)
		}
	}
	for pass := range 2 {
		for i, want := range objs {
			got, err := d.ReadAll(ctx, name(i))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("pass %d, %s: %d bytes, %v", pass, name(i), len(got), err)
			}
			if s := c.Stats().Size; s > limit {
				t.Fatalf("cache holds %d bytes, limit %d", s, limit)
			}
		}
	}
	if c.Stats().Evictions == 0 {
		t.Fatalf("no evictions: %+v", c.Stats())
	}
	if got := du(t, filepath.Join(dir, "blocks")); got > limit {
		t.Fatalf("cache directory holds %d bytes, limit %d", got, limit)
	}
	// Reopened, the cache finds what is on disk and keeps the limit.
	c2, err := storage.NewCache(dir, limit/2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := c2.Stats().Size; s > limit/2 || du(t, filepath.Join(dir, "blocks")) > limit/2 {
		t.Fatalf("reopened with a smaller limit: holds %d bytes (on disk %d), limit %d", s, du(t, filepath.Join(dir, "blocks")), limit/2)
	}
}

func name(i int) string { return "shard-0000" + string(rune('0'+i)) + ".arrow" }

func du(t *testing.T, dir string) int64 {
	var n int64
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A sequential reader gets its next blocks fetched ahead; the bytes are
// right and each is fetched once.
func TestCacheReadAhead(t *testing.T) {
	ctx := ctxT(t)
	srv := storagetest.StartS3(t, "data")
	storagetest.Credentials(t)
	d, c := cached(t, srv, t.TempDir(), 64<<20, 3)
	data := randomBytes(2<<20, 8)
	if err := d.WriteFile(ctx, "seq.arrow", data); err != nil {
		t.Fatal(err)
	}
	o, err := d.Open(ctx, "seq.arrow")
	if err != nil {
		t.Fatal(err)
	}
	sr := io.NewSectionReader(o, 0, o.Size())
	got, err := io.ReadAll(sr)
	o.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("sequential read: %d bytes, %v", len(got), err)
	}
	if c.Stats().ReadAhead == 0 {
		t.Fatalf("no block was fetched ahead: %+v", c.Stats())
	}
	if n := d.Stats().BytesRead; n != int64(len(data)) {
		t.Fatalf("%d bytes fetched for %d", n, len(data))
	}
}

// A replaced object is fetched anew, not served from the old blocks; a
// damaged block is dropped and fetched again.
func TestCacheReplacedAndDamaged(t *testing.T) {
	ctx := ctxT(t)
	srv := storagetest.StartS3(t, "data")
	storagetest.Credentials(t)
	dir := t.TempDir()
	d, _ := cached(t, srv, dir, 64<<20, -1)
	v1, v2 := randomBytes(300_000, 1), randomBytes(300_001, 2)
	if err := d.WriteFile(ctx, "manifest.json", v1); err != nil {
		t.Fatal(err)
	}
	if got, err := d.ReadAll(ctx, "manifest.json"); err != nil || !bytes.Equal(got, v1) {
		t.Fatalf("v1: %v", err)
	}
	if err := d.WriteFile(ctx, "manifest.json", v2); err != nil {
		t.Fatal(err)
	}
	if got, err := d.ReadAll(ctx, "manifest.json"); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("after replacing: %d bytes, %v; want v2", len(got), err)
	}
	// Cut every block file short.
	filepath.Walk(filepath.Join(dir, "blocks"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			os.Truncate(p, info.Size()/2)
		}
		return nil
	})
	if got, err := d.ReadAll(ctx, "manifest.json"); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("with damaged blocks: %d bytes, %v; want v2", len(got), err)
	}
}

// The cache sits behind the retries: faults on the way are absorbed.
func TestCacheWithFaults(t *testing.T) {
	ctx := ctxT(t)
	srv := storagetest.StartS3(t, "data")
	storagetest.Credentials(t)
	d, _ := cached(t, srv, t.TempDir(), 64<<20, 2)
	data := randomBytes(1<<20, 6)
	if err := d.WriteFile(ctx, "x.arrow", data); err != nil {
		t.Fatal(err)
	}
	srv.Faults.Set(storagetest.Reads(storagetest.Truncate, storagetest.Pass, storagetest.Shorten, storagetest.SlowDown, storagetest.Pass))
	if got, err := d.ReadAll(ctx, "x.arrow"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read: %d bytes, %v", len(got), err)
	}
}

// A reader waiting for a block that a closed Object's read-ahead was
// fetching gets the block, not that Object's cancellation. The read-ahead
// requests stall, so that the reader finds them under way; it is let go
// once it had time to start waiting (if it had not, it fetches the block
// itself and the test passes without the case: never a false failure).
func TestCacheReadAheadOfClosedObject(t *testing.T) {
	ctx := ctxT(t)
	srv := storagetest.StartS3(t, "data")
	storagetest.Credentials(t)
	c, err := storage.NewCache(t.TempDir(), 64<<20, &storage.CacheOptions{BlockSize: 64 << 10, ReadAhead: 4})
	if err != nil {
		t.Fatal(err)
	}
	opts := srv.Options()
	opts.Cache = c
	opts.StallTimeout = time.Minute // the stalled read-ahead ends by the Close only
	d, err := storage.Create(ctx, srv.URL("data", "shards"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	data := randomBytes(1<<20, 13)
	if err := d.WriteFile(ctx, "x.arrow", data); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	ranged := 0
	srv.Faults.Set(func(r *http.Request, _ int) storagetest.Fault {
		if r.Header.Get("Range") == "" {
			return storagetest.Pass
		}
		mu.Lock()
		defer mu.Unlock()
		ranged++
		if ranged >= 3 && ranged <= 6 { // the read-ahead of blocks 2..5
			return storagetest.Stall
		}
		return storagetest.Pass
	})
	a, err := d.Open(ctx, "x.arrow")
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 100)
	for _, off := range []int64{0, 64 << 10} { // two blocks in a row start the read-ahead
		if _, err := a.ReadAt(p, off); err != nil {
			t.Fatal(err)
		}
	}
	for srv.Faults.Injected(storagetest.Stall) < 4 {
		if ctx.Err() != nil {
			t.Fatalf("the read-ahead sent %d requests of 4", srv.Faults.Injected(storagetest.Stall))
		}
		time.Sleep(10 * time.Millisecond)
	}
	done := make(chan error, 1)
	go func() {
		got, err := d.ReadAll(ctx, "x.arrow")
		if err == nil && !bytes.Equal(got, data) {
			err = io.ErrShortBuffer
		}
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	a.Close()
	if err := <-done; err != nil {
		t.Fatalf("read while a closed Object's read-ahead was under way: %v", err)
	}
}
