package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"weaksup/storage"
	"weaksup/storage/storagetest"
)

// backend is one way of reaching a location: a fake service through its
// endpoint in Options or in the environment, or a local directory.
type backend struct {
	name string
	open func(t *testing.T) (loc string, opts *storage.Options, srv *storagetest.Server)
}

func backends() []backend {
	return []backend{
		{"local", func(t *testing.T) (string, *storage.Options, *storagetest.Server) {
			return filepath.Join(t.TempDir(), "out"), nil, nil
		}},
		{"s3", func(t *testing.T) (string, *storage.Options, *storagetest.Server) {
			srv := storagetest.StartS3(t, "data")
			storagetest.Credentials(t)
			return srv.URL("data", "run/shards"), srv.Options(), srv
		}},
		{"s3-env", func(t *testing.T) (string, *storage.Options, *storagetest.Server) {
			srv := storagetest.StartS3(t, "data")
			srv.Env(t) // AWS_ENDPOINT_URL
			o := srv.Options()
			o.Endpoint = ""
			return srv.URL("data", "run/shards"), o, srv
		}},
		{"gcs", func(t *testing.T) (string, *storage.Options, *storagetest.Server) {
			srv := storagetest.StartGCS(t, "data")
			storagetest.Credentials(t)
			return srv.URL("data", "run/shards"), srv.Options(), srv
		}},
		{"gcs-env", func(t *testing.T) (string, *storage.Options, *storagetest.Server) {
			srv := storagetest.StartGCS(t, "data")
			srv.Env(t) // STORAGE_EMULATOR_HOST
			o := srv.Options()
			o.Endpoint = ""
			return srv.URL("data", "run/shards"), o, srv
		}},
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			ctx := ctxT(t)
			loc, opts, _ := be.open(t)
			d, err := storage.Create(ctx, loc, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()

			big := randomBytes(3<<20+12345, 1)
			files := map[string][]byte{
				"manifest.json":       []byte(`{"version":1}` + "\n"),
				"shard-00000.arrow":   big,
				"val/val-00000.arrow": randomBytes(1000, 2),
				"empty":               {},
			}
			for k, v := range files {
				if err := d.WriteFile(ctx, k, v); err != nil {
					t.Fatalf("write %s: %v", k, err)
				}
			}
			for k, want := range files {
				got, err := d.ReadAll(ctx, k)
				if err != nil {
					t.Fatalf("read %s: %v", k, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("read %s: got %d bytes, want %d (or they differ)", k, len(got), len(want))
				}
				info, err := d.Stat(ctx, k)
				if err != nil || info.Size != int64(len(want)) {
					t.Fatalf("stat %s: %+v, %v; want size %d", k, info, err, len(want))
				}
			}

			// Ranged reads at random places, and past the end.
			o, err := d.Open(ctx, "shard-00000.arrow")
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(3, 4))
			for range 20 {
				off := r.Int64N(int64(len(big)))
				n := r.IntN(200_000) + 1
				end := min(off+int64(n), int64(len(big)))
				p := make([]byte, n)
				got, err := o.ReadAt(p, off)
				if end-off < int64(n) {
					if !errors.Is(err, io.EOF) || got != int(end-off) {
						t.Fatalf("ReadAt past the end at %d: %d, %v; want %d, EOF", off, got, err, end-off)
					}
				} else if err != nil || got != n {
					t.Fatalf("ReadAt(%d bytes at %d): %d, %v", n, off, got, err)
				}
				if !bytes.Equal(p[:got], big[off:end]) {
					t.Fatalf("ReadAt(%d bytes at %d): wrong bytes", n, off)
				}
			}
			o.Close()

			list, err := d.List(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, i := range list {
				keys = append(keys, i.Key)
			}
			if got, want := strings.Join(keys, " "), "empty manifest.json shard-00000.arrow val/val-00000.arrow"; got != want {
				t.Fatalf("list: got %s, want %s", got, want)
			}
			list, err = d.List(ctx, "val/")
			if err != nil || len(list) != 1 || list[0].Key != "val/val-00000.arrow" || list[0].Size != 1000 {
				t.Fatalf("list val/: %+v, %v", list, err)
			}

			// Sub sees the same objects under its prefix.
			sub, err := d.Sub("val")
			if err != nil {
				t.Fatal(err)
			}
			if got, err := sub.ReadAll(ctx, "val-00000.arrow"); err != nil || !bytes.Equal(got, files["val/val-00000.arrow"]) {
				t.Fatalf("sub read: %d bytes, %v", len(got), err)
			}
			if want := d.URL("val/val-00000.arrow"); sub.URL("val-00000.arrow") != want {
				t.Fatalf("sub URL %s, want %s", sub.URL("val-00000.arrow"), want)
			}

			if err := d.Delete(ctx, "manifest.json"); err != nil {
				t.Fatal(err)
			}
			if ok, err := d.Exists(ctx, "manifest.json"); ok || err != nil {
				t.Fatalf("exists after delete: %v, %v", ok, err)
			}
			if err := d.Delete(ctx, "manifest.json"); err != nil {
				t.Fatalf("deleting a missing object: %v", err)
			}
			if _, err := d.ReadAll(ctx, "manifest.json"); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), d.URL("manifest.json")) {
				t.Fatalf("read after delete: %v; want a not-exist error naming %s", err, d.URL("manifest.json"))
			}
		})
	}
}

// A reader sees no object until Close, then all of it; Abort leaves none.
func TestWriterAtomic(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			ctx := ctxT(t)
			loc, opts, _ := be.open(t)
			d, err := storage.Create(ctx, loc, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			old := []byte("old checkpoint")
			if err := d.WriteFile(ctx, "ckpt/model.safetensors", old); err != nil {
				t.Fatal(err)
			}
			data := randomBytes(2<<20, 5)
			w, err := d.Create(ctx, "ckpt/model.safetensors")
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(data); i += 100_000 {
				if _, err := w.Write(data[i:min(i+100_000, len(data))]); err != nil {
					t.Fatal(err)
				}
				if got, err := d.ReadAll(ctx, "ckpt/model.safetensors"); err != nil || !bytes.Equal(got, old) {
					t.Fatalf("while writing, a reader sees %d bytes, %v; want the old object", len(got), err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got, err := d.ReadAll(ctx, "ckpt/model.safetensors"); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("after Close: %d bytes, %v; want the new %d", len(got), err, len(data))
			}

			w, err = d.Create(ctx, "ckpt/optimizer.bin")
			if err != nil {
				t.Fatal(err)
			}
			w.Write(data)
			w.Abort()
			if ok, err := d.Exists(ctx, "ckpt/optimizer.bin"); ok || err != nil {
				t.Fatalf("after Abort: exists %v, %v", ok, err)
			}
			list, err := d.List(ctx, "")
			if err != nil || len(list) != 1 {
				t.Fatalf("after Abort the directory holds %+v, %v; want only the model", list, err)
			}
		})
	}
}

// AWS_ENDPOINT_URL_S3, the S3-only form of the endpoint variable, is read
// too, and gets path-style requests.
func TestS3ServiceEndpointEnv(t *testing.T) {
	ctx := ctxT(t)
	srv := storagetest.StartS3(t, "data")
	storagetest.Credentials(t)
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.Endpoint)
	o := srv.Options()
	o.Endpoint = ""
	d, err := storage.Create(ctx, srv.URL("data", "p"), o)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.WriteFile(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if got, err := d.ReadAll(ctx, "k"); err != nil || string(got) != "v" {
		t.Fatalf("read back %q, %v", got, err)
	}
	if srv.Faults.Requests() == 0 {
		t.Fatal("no request reached the fake")
	}
}

// A Reader streams an object whole, through faults, with or without a
// cache, and Close ends its read-ahead midway.
func TestReaderStreams(t *testing.T) {
	for _, withCache := range []bool{false, true} {
		t.Run(fmt.Sprintf("cache=%v", withCache), func(t *testing.T) {
			ctx := ctxT(t)
			srv := storagetest.StartS3(t, "data")
			storagetest.Credentials(t)
			opts := srv.Options()
			if withCache {
				c, err := storage.NewCache(t.TempDir(), 1<<30, nil)
				if err != nil {
					t.Fatal(err)
				}
				opts.Cache = c
			}
			d, err := storage.Create(ctx, srv.URL("data", "in"), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			data := randomBytes(20<<20+77, 21) // three chunks
			if err := d.WriteFile(ctx, "records.jsonl", data); err != nil {
				t.Fatal(err)
			}
			srv.Faults.Set(storagetest.Reads(storagetest.Truncate, storagetest.Pass, storagetest.Shorten, storagetest.Pass))
			r, err := d.NewReader(ctx, "records.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("stream: %d bytes, %v; want the %d written", len(got), err, len(data))
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			srv.Faults.Set(nil)

			r, err = d.NewReader(ctx, "records.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			p := make([]byte, 1000)
			if _, err := io.ReadFull(r, p); err != nil || !bytes.Equal(p, data[:1000]) {
				t.Fatalf("first bytes: %v", err)
			}
			r.Close() // must return with chunks still ahead
			if _, err := r.Read(p); err == nil {
				t.Fatal("read after Close succeeded")
			}
			if _, err := d.NewReader(ctx, "missing"); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("stream of a missing object: %v", err)
			}
		})
	}
}
