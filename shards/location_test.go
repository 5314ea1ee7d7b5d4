package shards_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/shards"
	"weaksup/shards/shardstest"
	"weaksup/storage"
	"weaksup/storage/storagetest"
)

// photoRows makes n rows with one or two labels out of k and small
// photo-like JPEGs.
func photoRows(tb testing.TB, n, k int) []shards.Row {
	tb.Helper()
	rows := make([]shards.Row, n)
	for i := range rows {
		labels := []int32{int32(i % k)}
		if i%3 == 0 && k > 1 {
			labels = append(labels, int32((i+1)%k))
		}
		var tags []string
		for _, l := range labels {
			tags = append(tags, fmt.Sprintf("tag%d", l))
		}
		rows[i] = shards.Row{Key: fmt.Sprintf("rec-%06d", i), Image: testkit.PhotoJPEG(tb, uint64(i), 16, 16, 80),
			Width: 16, Height: 16, Labels: labels, Tags: tags, RawTags: tags,
			URL: fmt.Sprintf("https://example.org/%d.jpg", i), PHash: uint64(i) * 0x9e3779b97f4a7c15}
		rows[i].SHA256[0] = byte(i)
	}
	return rows
}

func objectServers() map[string]func(testing.TB, ...string) *storagetest.Server {
	return map[string]func(testing.TB, ...string) *storagetest.Server{"s3": storagetest.StartS3, "gcs": storagetest.StartGCS}
}

// Shards written to gs:// or s3:// are the local run's byte for byte, and
// verify, inspect, dump and the shard set read them as they read a local
// directory.
func TestShardsAtURL(t *testing.T) {
	rows := photoRows(t, 70, 6)
	local := shardstest.WriteDir(t, rows, 25, 6)
	for name, start := range objectServers() {
		t.Run(name, func(t *testing.T) {
			srv := start(t, "data")
			srv.Env(t) // the string forms find the fake as they would a real service
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp) // where copies and shards being written go
			url := srv.URL("data", "run1/shards")
			shardstest.Write(t, url, rows, 25, 6)

			ctx := context.Background()
			d, err := storage.Open(ctx, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			list, err := d.List(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 4 {
				t.Fatalf("the URL holds %d objects, want 3 shards and a manifest: %+v", len(list), list)
			}
			for _, f := range []string{"shard-00000.arrow", "shard-00001.arrow", "shard-00002.arrow", shards.ManifestName} {
				got, err := d.ReadAll(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if want := testkit.ReadFile(t, filepath.Join(local, f)); !bytes.Equal(got, want) {
					t.Fatalf("%s at the URL (%d bytes) differs from the local run's (%d bytes)", f, len(got), len(want))
				}
			}

			var out bytes.Buffer
			if err := shards.Verify(url, &out); err != nil {
				t.Fatalf("verify %s: %v\n%s", url, err, out.String())
			}
			if n := strings.Count(out.String(), "ok  shard-"); n != 3 {
				t.Fatalf("verify printed %d ok lines, want 3:\n%s", n, out.String())
			}
			var li, ri bytes.Buffer
			if err := shards.Inspect(local, &li, 5); err != nil {
				t.Fatal(err)
			}
			if err := shards.Inspect(url, &ri, 5); err != nil {
				t.Fatal(err)
			}
			if got, want := strings.Replace(ri.String(), url, "DIR", 1), strings.Replace(li.String(), local, "DIR", 1); got != want {
				t.Fatalf("inspect of the URL:\n%s\nof the local directory:\n%s", got, want)
			}

			ls, err := shards.OpenShardSet(local, shards.SplitTrain)
			if err != nil {
				t.Fatal(err)
			}
			defer ls.Close()
			rs, err := shards.OpenShardSet(url, shards.SplitTrain)
			if err != nil {
				t.Fatal(err)
			}
			if rs.Len() != len(rows) {
				t.Fatalf("shard set at the URL has %d rows, want %d", rs.Len(), len(rows))
			}
			for i := range rows {
				lk, limg, ll, err := ls.Read(i, nil)
				if err != nil {
					t.Fatal(err)
				}
				rk, rimg, rl, err := rs.Read(i, nil)
				if err != nil {
					t.Fatalf("read row %d at the URL: %v", i, err)
				}
				if lk != rk || !bytes.Equal(limg, rimg) || fmt.Sprint(ll) != fmt.Sprint(rl) {
					t.Fatalf("row %d: URL gives %s %v, local %s %v", i, rk, rl, lk, ll)
				}
			}
			if err := rs.Close(); err != nil {
				t.Fatal(err)
			}

			dump := t.TempDir()
			if n, err := shards.Dump(url, shards.SplitTrain, 30, dump); err != nil || n != 30 {
				t.Fatalf("dump from the URL: %d, %v", n, err)
			}
			if got := testkit.ReadFile(t, filepath.Join(dump, "index.tsv")); !bytes.Contains(got, []byte(rows[29].Key)) {
				t.Fatalf("dump index lacks row 29")
			}

			// No temporary copies are left behind.
			if left, err := os.ReadDir(tmp); err != nil || len(left) != 0 {
				t.Fatalf("temporary files left in %s: %v, %v", tmp, left, err)
			}
		})
	}
}

// A damaged object, a missing manifest and a missing bucket are errors
// naming the URL; a flaky service is retried and verify still passes.
func TestShardsAtURLErrors(t *testing.T) {
	rows := photoRows(t, 40, 4)
	for name, start := range objectServers() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			srv := start(t, "data")
			storagetest.Credentials(t)
			url := srv.URL("data", "shards")
			d, err := storage.Open(ctx, url, srv.Options())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, err := shards.ReadManifestIn(ctx, d); err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), url+"/manifest.json") {
				t.Fatalf("read a missing manifest: %v; want a not-exist error naming %s/manifest.json", err, url)
			}

			local := shardstest.WriteDir(t, rows, 20, 4)
			for _, f := range []string{"shard-00000.arrow", "shard-00001.arrow"} {
				if err := d.Upload(ctx, f, filepath.Join(local, f)); err != nil {
					t.Fatal(err)
				}
			}
			m, err := shards.ReadManifest(local)
			if err != nil {
				t.Fatal(err)
			}
			if err := shards.WriteManifestIn(ctx, d, m); err != nil {
				t.Fatal(err)
			}

			srv.Faults.Set(storagetest.Reads(storagetest.Truncate, storagetest.Pass, storagetest.Shorten, storagetest.SlowDown))
			if err := shards.VerifyIn(ctx, d, nil); err != nil {
				t.Fatalf("verify through faults: %v", err)
			}
			if srv.Faults.Injected(storagetest.Shorten) == 0 {
				t.Fatal("no fault injected")
			}
			srv.Faults.Set(nil)

			data := testkit.ReadFile(t, filepath.Join(local, "shard-00001.arrow"))
			bad := bytes.Clone(data)
			bad[len(bad)/2] ^= 0xff
			if err := d.WriteFile(ctx, "shard-00001.arrow", bad); err != nil {
				t.Fatal(err)
			}
			err = shards.VerifyIn(ctx, d, nil)
			if !errors.Is(err, shards.ErrCorrupt) || !strings.Contains(err.Error(), "shard-00001.arrow") || strings.Contains(err.Error(), "shard-00000.arrow") {
				t.Fatalf("verify with a damaged object: %v; want a corrupt error naming only shard-00001.arrow", err)
			}
			if err := d.Delete(ctx, "shard-00001.arrow"); err != nil {
				t.Fatal(err)
			}
			err = shards.VerifyIn(ctx, d, nil)
			if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), url+"/shard-00001.arrow") {
				t.Fatalf("verify with a missing object: %v; want an error naming %s/shard-00001.arrow", err, url)
			}

			t.Setenv("AWS_ENDPOINT_URL", srv.Endpoint)
			t.Setenv("STORAGE_EMULATOR_HOST", strings.TrimPrefix(srv.Endpoint, "http://"))
			missing := srv.URL("nosuchbucket", "shards")
			if err := shards.Verify(missing, nil); err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
				t.Fatalf("verify in a missing bucket: %v", err)
			}
		})
	}
}

// A shard set over a Dir with a cache reads each shard from the service
// once, however often it is reopened.
func TestShardSetCached(t *testing.T) {
	rows := photoRows(t, 40, 5)
	local := shardstest.WriteDir(t, rows, 20, 5)
	srv := storagetest.StartS3(t, "data")
	storagetest.Credentials(t)
	ctx := context.Background()
	c, err := storage.NewCache(t.TempDir(), 1<<30, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := srv.Options()
	opts.Cache = c
	d, err := storage.Open(ctx, srv.URL("data", ""), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var total int64
	for _, f := range []string{"shard-00000.arrow", "shard-00001.arrow", shards.ManifestName} {
		if err := d.Upload(ctx, f, filepath.Join(local, f)); err != nil {
			t.Fatal(err)
		}
		if f != shards.ManifestName {
			total += int64(len(testkit.ReadFile(t, filepath.Join(local, f))))
		}
	}
	before := d.Stats().BytesRead
	for range 3 {
		ss, err := shards.OpenShardSetIn(ctx, d, shards.SplitTrain)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rows {
			if _, img, _, err := ss.Read(i, nil); err != nil || !bytes.Equal(img, rows[i].Image) {
				t.Fatalf("row %d: %v", i, err)
			}
		}
		ss.Close()
	}
	manifest := int64(len(testkit.ReadFile(t, filepath.Join(local, shards.ManifestName))))
	if got := d.Stats().BytesRead - before; got != total+manifest {
		t.Fatalf("%d bytes fetched over three passes; want the shards' %d once and the manifest's %d once (cached)", got, total, manifest)
	}
}

// The stage writes to gs:// and s3:// the shards it writes locally, byte
// for byte, through a service that fails on purpose; a rerun with fewer
// rows leaves no shard of the first run behind; a missing bucket and a
// malformed URL are errors naming them.
func TestStageWritesToURL(t *testing.T) {
	wd, st, _ := testWorkdir(t, 200, 8)
	cfg := shards.Config{ShardMB: 1, ValFraction: 0.1, Seed: 3}
	localOut := filepath.Join(t.TempDir(), "shards")
	cfg.Out = localOut
	if _, err := shards.Run(context.Background(), st, wd, cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(localOut)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		files = append(files, e.Name())
	}
	for name, start := range objectServers() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			srv := start(t, "data")
			srv.Env(t)
			t.Setenv("TMPDIR", t.TempDir())
			url := srv.URL("data", "run/shards")
			// A shard of an earlier run with more shards.
			d, err := storage.Open(ctx, url, srv.Options())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if err := d.WriteFile(ctx, "shard-00099.arrow", []byte("old")); err != nil {
				t.Fatal(err)
			}
			p := storagetest.Pass
			srv.Faults.Set(storagetest.Writes(p, storagetest.ServerError, p, p, storagetest.SlowDown))
			c := cfg
			c.Out = url
			stats, err := shards.Run(ctx, st, wd, c, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if stats.TrainShards < 2 || srv.Faults.Injected(storagetest.ServerError) == 0 {
				t.Fatalf("%d train shards, %d faults injected; want several shards written through failures", stats.TrainShards, srv.Faults.Injected(storagetest.ServerError))
			}
			srv.Faults.Set(nil)
			objs, err := d.List(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range objs {
				keys = append(keys, o.Key)
			}
			if !slices.Equal(keys, files) {
				t.Fatalf("objects at %s: %v; want the local run's files %v", url, keys, files)
			}
			for _, f := range files {
				if f == shards.ManifestName {
					continue
				}
				got, err := d.ReadAll(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if want := testkit.ReadFile(t, filepath.Join(localOut, f)); !bytes.Equal(got, want) {
					t.Fatalf("%s at %s differs from the local run's", f, url)
				}
			}
			lm, err := shards.ReadManifest(localOut)
			if err != nil {
				t.Fatal(err)
			}
			um, err := shards.ReadManifestIn(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			um.Created, um.Config.Out = lm.Created, lm.Config.Out
			if !reflect.DeepEqual(um, lm) {
				t.Fatalf("the manifest at %s differs from the local one (but for its time and --out)", url)
			}
			if err := shards.Verify(url, io.Discard); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, bad := range []struct{ out, want string }{
		{"s3://nosuchbucket/shards", "nosuchbucket"},
		{"s3://", "--out"},
	} {
		c := cfg
		c.Out = bad.out
		srv := storagetest.StartS3(t, "data")
		srv.Env(t)
		if _, err := shards.Run(context.Background(), st, wd, c, io.Discard); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Fatalf("shards.Run with --out %s: %v; want an error naming %s", bad.out, err, bad.want)
		}
	}
}
