package shards_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/shards"
	"weaksup/shards/shardstest"
	"weaksup/storage"
	"weaksup/storage/storagetest"
)

// uploadDir copies the files of a local shard directory to d.
func uploadDir(tb testing.TB, d *storage.Dir, local string, files ...string) {
	tb.Helper()
	for _, f := range append(files, shards.ManifestName) {
		if err := d.Upload(context.Background(), f, filepath.Join(local, f)); err != nil {
			tb.Fatal(err)
		}
	}
}

func imageBytes(rows []shards.Row) int64 {
	var n int64
	for _, r := range rows {
		n += int64(len(r.Image))
	}
	return n
}

// A shard set at a URL reads its shards in place: a reader of every other
// row (one rank of two) fetches half of the image bytes and the index
// columns, not the whole files, and gets the local rows byte for byte,
// through a service that cuts, shortens and refuses responses on purpose.
func TestStreamedShardSetReadsItsShare(t *testing.T) {
	// 2,500 incompressible 3,000-byte images: three record batches of at
	// most 1,024 rows in the first shard, one in the second.
	rows := shardstest.FakeJPEGRows(3000)
	local := shardstest.WriteDir(t, rows, 2500, 4)
	files := []string{"shard-00000.arrow", "shard-00001.arrow"}
	var fileBytes int64
	for _, f := range files {
		fileBytes += int64(len(testkit.ReadFile(t, filepath.Join(local, f))))
	}
	images := imageBytes(rows)
	for name, start := range objectServers() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			srv := start(t, "data")
			storagetest.Credentials(t)
			d, err := storage.Open(ctx, srv.URL("data", "shards"), srv.Options())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			uploadDir(t, d, local, files...)
			p := storagetest.Pass
			srv.Faults.Set(storagetest.Reads(p, p, p, p, p, storagetest.Truncate, p, p, p, p, p, storagetest.Shorten,
				p, p, p, p, p, storagetest.SlowDown, p, p, p, p, p, storagetest.ServerError))

			before := d.Stats().BytesRead
			ss, err := shards.OpenShardSetIn(ctx, d, shards.SplitTrain)
			if err != nil {
				t.Fatal(err)
			}
			defer ss.Close()
			var mine []int
			for i := 0; i < len(rows); i += 2 {
				mine = append(mine, i)
			}
			for k := 0; k < len(mine); k += 64 {
				batch := mine[k:min(k+64, len(mine))]
				ss.Prefetch(batch)
				for _, i := range batch {
					key, img, labels, err := ss.Read(i, nil)
					if err != nil {
						t.Fatalf("read row %d: %v", i, err)
					}
					if key != rows[i].Key || !bytes.Equal(img, rows[i].Image) || fmt.Sprint(labels) != fmt.Sprint(rows[i].Labels) {
						t.Fatalf("row %d: got key %q, %d image bytes, labels %v; want %q, %d, %v", i, key, len(img), labels, rows[i].Key, len(rows[i].Image), rows[i].Labels)
					}
				}
			}
			got := d.Stats().BytesRead - before
			index := fileBytes - images
			// Half the images, the index columns, and at most the 64 KiB
			// read at each shard's end to find its footer.
			if lo, hi := images/2, images/2+index+2*64<<10; got < lo || got > hi {
				t.Fatalf("reading every other row fetched %d bytes of %d; want between %d (half the images) and %d (plus the index columns and footers)", got, fileBytes, lo, hi)
			}
			if srv.Faults.Injected(storagetest.Truncate) == 0 || srv.Faults.Injected(storagetest.ServerError) == 0 {
				t.Fatal("no fault injected")
			}
			// The other rows, without Prefetch.
			srv.Faults.Set(nil)
			for i := 1; i < len(rows); i += 2 {
				if _, img, _, err := ss.Read(i, nil); err != nil || !bytes.Equal(img, rows[i].Image) {
					t.Fatalf("read row %d: %v", i, err)
				}
			}
		})
	}
}

// Images that compress are stored compressed, and a shard read in place
// then maps them with the rest of its batch.
func TestStreamedShardCompressedImages(t *testing.T) {
	rows := shardstest.FakeJPEGRows(50)
	for i := range rows {
		rows[i].Image = bytes.Repeat([]byte{byte(i)}, 2000)
	}
	local := shardstest.WriteDir(t, rows, 50, 4)
	srv := storagetest.StartS3(t, "data")
	storagetest.Credentials(t)
	ctx := context.Background()
	d, err := storage.Open(ctx, srv.URL("data", ""), srv.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	uploadDir(t, d, local, "shard-00000.arrow")
	ss, err := shards.OpenShardSetIn(ctx, d, shards.SplitTrain)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	ss.Prefetch([]int{3, 4, 5})
	for i := range rows {
		if _, img, _, err := ss.Read(i, nil); err != nil || !bytes.Equal(img, rows[i].Image) {
			t.Fatalf("row %d: %d bytes, %v", i, len(img), err)
		}
	}
}

// A damaged or cut shard at a URL is an error naming it when it is
// opened, never rows of zeros.
func TestStreamedShardDamaged(t *testing.T) {
	rows := shardstest.FakeJPEGRows(40)
	local := shardstest.WriteDir(t, rows, 40, 4)
	data := testkit.ReadFile(t, filepath.Join(local, "shard-00000.arrow"))
	srv := storagetest.StartGCS(t, "data")
	storagetest.Credentials(t)
	ctx := context.Background()
	d, err := storage.Open(ctx, srv.URL("data", "s"), srv.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	uploadDir(t, d, local)
	url := d.URL("shard-00000.arrow")
	footerLen := int(data[len(data)-10]) | int(data[len(data)-9])<<8
	for name, bad := range map[string][]byte{
		"cut in half":    data[:len(data)/2],
		"no magic":       append(bytes.Clone(data[:len(data)-1]), 'X'),
		"footer damaged": func() []byte { b := bytes.Clone(data); b[len(b)-10-footerLen/2] ^= 0xff; return b }(),
		"footer length":  func() []byte { b := bytes.Clone(data); b[len(b)-8] = 0x7f; return b }(),
		"empty":          {},
	} {
		t.Run(name, func(t *testing.T) {
			if err := d.WriteFile(ctx, "shard-00000.arrow", bad); err != nil {
				t.Fatal(err)
			}
			ss, err := shards.OpenShardSetIn(ctx, d, shards.SplitTrain)
			if err != nil {
				t.Fatal(err)
			}
			defer ss.Close()
			_, _, _, err = ss.Read(0, nil)
			if err == nil || !strings.Contains(err.Error(), url) {
				t.Fatalf("read a shard %s: %v; want an error naming %s", name, err, url)
			}
			if !errors.Is(err, shards.ErrCorrupt) && !errors.Is(err, shards.ErrSchema) {
				t.Fatalf("read a shard %s: %v; want ErrCorrupt", name, err)
			}
		})
	}
}
