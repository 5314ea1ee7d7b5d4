package storage_test

import (
	"bytes"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"weaksup/storage"
	"weaksup/storage/storagetest"
)

func services() []struct {
	name  string
	start func(testing.TB, ...string) *storagetest.Server
} {
	return []struct {
		name  string
		start func(testing.TB, ...string) *storagetest.Server
	}{{"s3", storagetest.StartS3}, {"gcs", storagetest.StartGCS}}
}

// Every kind of failure on the way back is retried from where the bytes
// stopped, and the reader gets exactly the object's bytes.
func TestReadFaultsRetried(t *testing.T) {
	faults := []storagetest.Fault{storagetest.ServerError, storagetest.SlowDown, storagetest.Truncate, storagetest.Shorten, storagetest.Stall}
	for _, svc := range services() {
		for _, f := range faults {
			t.Run(svc.name+"/"+f.String(), func(t *testing.T) {
				ctx := ctxT(t)
				srv := svc.start(t, "data")
				storagetest.Credentials(t)
				opts := srv.Options()
				d, err := storage.Create(ctx, srv.URL("data", "p"), opts)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				data := randomBytes(1<<20+7, 9)
				if err := d.WriteFile(ctx, "shard-00000.arrow", data); err != nil {
					t.Fatal(err)
				}
				// Every other ranged read fails.
				srv.Faults.Set(storagetest.Reads(f, storagetest.Pass))
				before := d.Stats()
				got, err := d.ReadAll(ctx, "shard-00000.arrow")
				if err != nil {
					t.Fatalf("read through %s faults: %v", f, err)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("read through %s faults: %d bytes that differ from the %d written", f, len(got), len(data))
				}
				if n := srv.Faults.Injected(f); n == 0 {
					t.Fatalf("no %s fault was injected", f)
				}
				if d.Stats().Retries == before.Retries && (f == storagetest.Shorten || f == storagetest.Stall) {
					// The SDKs absorb 500s and 503s, and GCS's reader resumes
					// a cut body itself; a body that ends early but cleanly,
					// or one that stops, only this package notices.
					t.Fatalf("%s: no retry counted", f)
				}
				// Ranged reads through an Object, too.
				o, err := d.Open(ctx, "shard-00000.arrow")
				if err != nil {
					t.Fatal(err)
				}
				defer o.Close()
				p := make([]byte, 300_000)
				if n, err := o.ReadAt(p, 500_000); err != nil || n != len(p) || !bytes.Equal(p, data[500_000:800_000]) {
					t.Fatalf("ReadAt through %s faults: %d, %v (or wrong bytes)", f, n, err)
				}
			})
		}
	}
}

// A fault that never clears ends in an error that says what happened and
// names the URL; never in fewer bytes.
func TestReadFaultsPersistent(t *testing.T) {
	cases := []struct {
		fault storagetest.Fault
		is    error
		text  string
	}{
		{storagetest.ServerError, nil, "gave up after 3 attempts"},
		{storagetest.SlowDown, nil, "gave up after 3 attempts"},
		{storagetest.Truncate, nil, "gave up after 3 attempts"},
		{storagetest.Shorten, storage.ErrShortRead, "ended"},
		{storagetest.Stall, storage.ErrStalled, "no progress for"},
	}
	for _, svc := range services() {
		for _, c := range cases {
			t.Run(svc.name+"/"+c.fault.String(), func(t *testing.T) {
				ctx := ctxT(t)
				srv := svc.start(t, "data")
				storagetest.Credentials(t)
				opts := srv.Options()
				opts.Attempts = 3
				opts.StallTimeout = 500 * time.Millisecond
				d, err := storage.Create(ctx, srv.URL("data", "p"), opts)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				if err := d.WriteFile(ctx, "x.arrow", randomBytes(100_000, 1)); err != nil {
					t.Fatal(err)
				}
				srv.Faults.Set(storagetest.Reads(c.fault))
				got, err := d.ReadAll(ctx, "x.arrow")
				if err == nil {
					t.Fatalf("read through persistent %s: %d bytes and no error", c.fault, len(got))
				}
				url := srv.URL("data", "p/x.arrow")
				if !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), c.text) {
					t.Fatalf("error %q: want it to name %s and say %q", err, url, c.text)
				}
				if c.is != nil && !errors.Is(err, c.is) {
					t.Fatalf("error %q does not wrap %v", err, c.is)
				}
				if errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("error %q claims the object is missing", err)
				}
			})
		}
	}
}

// Uploads that meet 500s, 503s, a cut connection or no answer are sent again, and
// the object ends up whole.
func TestWriteFaultsRetried(t *testing.T) {
	for _, svc := range services() {
		for _, f := range []storagetest.Fault{storagetest.ServerError, storagetest.SlowDown, storagetest.Truncate, storagetest.Stall} {
			t.Run(svc.name+"/"+f.String(), func(t *testing.T) {
				ctx := ctxT(t)
				srv := svc.start(t, "data")
				storagetest.Credentials(t)
				d, err := storage.Create(ctx, srv.URL("data", "ckpt"), srv.Options())
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				data := randomBytes(3<<20, 11)
				srv.Faults.Set(storagetest.Writes(f, storagetest.Pass))
				if err := d.WriteFile(ctx, "model.safetensors", data); err != nil {
					t.Fatalf("write through %s faults: %v", f, err)
				}
				if srv.Faults.Injected(f) == 0 {
					t.Fatalf("no %s fault was injected", f)
				}
				srv.Faults.Set(nil)
				got, err := d.ReadAll(ctx, "model.safetensors")
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("read back: %d bytes, %v; want the %d written", len(got), err, len(data))
				}
			})
		}
	}
}

// A missing bucket, a missing object and a refused request are errors that
// name the URL, and are not retried.
func TestErrorsNameURL(t *testing.T) {
	for _, svc := range services() {
		t.Run(svc.name, func(t *testing.T) {
			ctx := ctxT(t)
			srv := svc.start(t, "data")
			storagetest.Credentials(t)

			_, err := storage.Open(ctx, srv.URL("nosuchbucket", "shards"), srv.Options())
			if want := srv.URL("nosuchbucket", "shards"); err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("open a missing bucket: %v; want a not-exist error naming %s", err, want)
			}

			d, err := storage.Open(ctx, srv.URL("data", "shards"), srv.Options())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for _, op := range []func() error{
				func() error { _, err := d.ReadAll(ctx, "manifest.json"); return err },
				func() error { _, err := d.Open(ctx, "manifest.json"); return err },
				func() error { _, err := d.Stat(ctx, "manifest.json"); return err },
			} {
				err := op()
				if want := srv.URL("data", "shards/manifest.json"); err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("a missing object: %v; want a not-exist error naming %s", err, want)
				}
			}
			if ok, err := d.Exists(ctx, "manifest.json"); ok || err != nil {
				t.Fatalf("exists of a missing object: %v, %v", ok, err)
			}

			if err := d.WriteFile(ctx, "manifest.json", []byte("{}")); err != nil {
				t.Fatal(err)
			}
			srv.Faults.Set(storagetest.Always(storagetest.Refuse))
			before := srv.Faults.Requests()
			_, err = d.ReadAll(ctx, "manifest.json")
			if want := srv.URL("data", "shards/manifest.json"); err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a refused read: %v; want a permission error naming %s", err, want)
			}
			if n := srv.Faults.Requests() - before; n != 1 {
				t.Fatalf("a refused read was sent %d times; want once", n)
			}
			if _, err := d.Exists(ctx, "manifest.json"); err == nil || !errors.Is(err, fs.ErrPermission) {
				t.Fatalf("exists when refused: %v; want the refusal, not an answer", err)
			}
			if err := d.WriteFile(ctx, "other.json", []byte("{}")); err == nil || !strings.Contains(err.Error(), srv.URL("data", "shards/other.json")) || !errors.Is(err, fs.ErrPermission) {
				t.Fatalf("a refused write: %v", err)
			}
			if _, err := storage.Open(ctx, srv.URL("data", "shards"), srv.Options()); err == nil || !errors.Is(err, fs.ErrPermission) {
				t.Fatalf("open when refused: %v", err)
			}
		})
	}
}

func TestLocalErrors(t *testing.T) {
	ctx := ctxT(t)
	missing := t.TempDir() + "/nope"
	if _, err := storage.Open(ctx, missing, nil); err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open a missing directory: %v", err)
	}
	d, err := storage.Create(ctx, missing, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.ReadAll(ctx, "a/b.json"); err == nil || !strings.Contains(err.Error(), missing+"/a/b.json") || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read a missing file: %v", err)
	}
	for _, bad := range []string{"", "../x", "a//b", "/abs", "a/./b", "a/"} {
		if err := d.WriteFile(ctx, bad, nil); err == nil {
			t.Fatalf("key %q accepted", bad)
		}
	}
}
