package storage_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/storage"
	"weaksup/storage/storagetest"
)

// Local gives a file with the object's bytes on every backend; Upload
// sends one.
func TestLocalAndUpload(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			ctx := ctxT(t)
			loc, opts, _ := be.open(t)
			if opts == nil {
				opts = &storage.Options{}
			}
			opts.SpoolDir = t.TempDir()
			d, err := storage.Create(ctx, loc, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			data := randomBytes(9<<20+5, 12) // more than one copy chunk
			src := filepath.Join(t.TempDir(), "shard.arrow")
			if err := os.WriteFile(src, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := d.Upload(ctx, "shard-00000.arrow", src); err != nil {
				t.Fatal(err)
			}
			path, release, err := d.Local(ctx, "shard-00000.arrow")
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("local copy %s: %d bytes, %v; want the %d uploaded", path, len(got), err, len(data))
			}
			release()
			if !d.IsLocal() {
				if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("a temporary copy outlives its release: %v", err)
				}
				if left, _ := os.ReadDir(opts.SpoolDir); len(left) != 0 {
					t.Fatalf("spool directory holds %d files after the writes and copies", len(left))
				}
			}
			if _, _, err := d.Local(ctx, "missing.arrow"); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), d.URL("missing.arrow")) {
				t.Fatalf("local copy of a missing object: %v", err)
			}
		})
	}
}

// With a cache, the whole copy is fetched once, stays while it is in use
// even past the limit, and goes when released and crowded out.
func TestLocalCached(t *testing.T) {
	ctx := ctxT(t)
	srv := storagetest.StartS3(t, "data")
	storagetest.Credentials(t)
	const limit = 1 << 20
	d, c := cached(t, srv, t.TempDir(), limit, -1)
	big := randomBytes(3<<20, 1) // three times the limit
	if err := d.WriteFile(ctx, "big.arrow", big); err != nil {
		t.Fatal(err)
	}
	p1, rel1, err := d.Local(ctx, "big.arrow")
	if err != nil {
		t.Fatal(err)
	}
	p2, rel2, err := d.Local(ctx, "big.arrow")
	if err != nil {
		t.Fatal(err)
	}
	if p1 != p2 {
		t.Fatalf("two copies: %s and %s", p1, p2)
	}
	if n := d.Stats().BytesRead; n != int64(len(big)) {
		t.Fatalf("%d bytes fetched for two local copies of %d", n, len(big))
	}
	// Other reads crowd the cache; the pinned copy stays.
	small := randomBytes(600_000, 2)
	if err := d.WriteFile(ctx, "small.arrow", small); err != nil {
		t.Fatal(err)
	}
	if got, err := d.ReadAll(ctx, "small.arrow"); err != nil || !bytes.Equal(got, small) {
		t.Fatalf("read small: %v", err)
	}
	rel1()
	if got, err := os.ReadFile(p1); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("pinned copy: %d bytes, %v", len(got), err)
	}
	rel2()
	if _, err := os.Stat(p1); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a released copy over the limit stays: %v", err)
	}
	if s := c.Stats().Size; s > limit {
		t.Fatalf("cache holds %d bytes after release, limit %d", s, limit)
	}
}
