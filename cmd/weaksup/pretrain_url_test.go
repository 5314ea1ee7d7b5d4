package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/shards/shardstest"
	"weaksup/storage"
	"weaksup/storage/storagetest"
	"weaksup/torch/torchtest"
	"weaksup/train"
)

// Two ranks of `weaksup pretrain --nproc-per-node 2` read their shards
// from s3:// and write the run to s3://, with nothing shared but the
// object store: each rank fetches about half of the image bytes of the
// epoch (its share), rank 0 writes the checkpoints, and a resume by both
// ranks reads them back.
func TestPretrainDataParallelFromObjectStorage(t *testing.T) {
	torchtest.Need(t)
	t.Setenv(cmdMainEnv, "1")
	// JPEGs that a shard stores raw (see the loader's tests), so that
	// each image can be read on its own.
	rows := shardstest.Rows(t, 192, 6, 8)
	var images int64
	for i := range rows {
		rows[i].Image = testkit.PhotoJPEG(t, uint64(i), 96, 96, 98)
		images += int64(len(rows[i].Image))
	}
	local := shardstest.WriteDir(t, rows, 48, 6)
	srv := storagetest.StartS3(t, "data", "runs")
	srv.Env(t) // the ranks find the fake through the environment
	ctx := context.Background()
	shardsURL, out := srv.URL("data", "shards"), srv.URL("runs", "ddp")
	d, err := storage.Open(ctx, shardsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ents, err := os.ReadDir(local)
	if err != nil {
		t.Fatal(err)
	}
	var shardBytes int64
	for _, e := range ents {
		if err := d.Upload(ctx, e.Name(), filepath.Join(local, e.Name())); err != nil {
			t.Fatal(err)
		}
		if info, _ := e.Info(); filepath.Ext(e.Name()) == ".arrow" {
			shardBytes += info.Size()
		}
	}
	args := []string{"pretrain", "--nproc-per-node", "2", "--shards", shardsURL, "--out", out, "--arch", "tiny",
		"--image-size", "24", "--batch", "4", "--epochs", "1", "--workers", "2", "--threads", "1",
		"--log-all-ranks", "--no-plots", "--dist-timeout", "2m"}
	code, stdout, errOut := runCaptured(t, args...)
	if code != 0 {
		t.Fatalf("exit code %d; stderr:\n%s", code, errOut)
	}
	read := regexp.MustCompile(`(?m)^(?:\[rank 1\] )?pretrain: rank ([01]) read ([0-9]+) bytes \([0-9.]+ MiB\) of ` + regexp.QuoteMeta(shardsURL))
	got := map[string]float64{}
	for _, m := range read.FindAllStringSubmatch(errOut, -1) {
		n, _ := strconv.ParseInt(m[2], 10, 64)
		got[m[1]] = float64(n) / (1 << 20)
	}
	if len(got) != 2 {
		t.Fatalf("stderr lacks each rank's bytes read:\n%s", errOut)
	}
	for rank, mib := range got {
		// Its half of the images; what the loader read ahead into the
		// next epoch (up to its 6 batch buffers, of both ranks' images);
		// every shard's index columns and footer: far from the whole
		// shards.
		share := float64(images) / 2 / (1 << 20)
		ahead := float64(images) * 6 * 4 / float64(len(rows)) / (1 << 20)
		if mib < share || mib > share+ahead+float64(shardBytes-images+4*16<<10)/(1<<20) {
			t.Errorf("rank %s read %.2f MiB of shards of %.2f MiB (images %.2f MiB); want about its half of the images", rank, mib, float64(shardBytes)/(1<<20), float64(images)/(1<<20))
		}
	}
	t.Logf("ranks read %v MiB of %.2f MiB of shards; stdout %q", got, float64(shardBytes)/(1<<20), stdout)
	cks, err := train.ListCheckpoints(train.CheckpointsDir(out))
	if err != nil || len(cks) == 0 {
		t.Fatalf("checkpoints at %s: %v, %v", out, cks, err)
	}

	args[len(args)-1] = "2m"
	code, _, errOut = runCaptured(t, append(args, "--resume", "--epochs", "2")...)
	if code != 0 {
		t.Fatalf("resume: exit code %d; stderr:\n%s", code, errOut)
	}
	if !regexp.MustCompile(`(?m)^\[rank 1\] pretrain: resuming from ` + regexp.QuoteMeta(cks[len(cks)-1])).MatchString(errOut) {
		t.Errorf("rank 1 did not resume from %s:\n%s", cks[len(cks)-1], errOut)
	}
}
