package pretrain

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/nets"
	"weaksup/storage"
	"weaksup/storage/storagetest"
	"weaksup/torch/torchtest"
	"weaksup/train"
	"weaksup/train/traintest"
)

// Pretraining from shards in object storage into a run directory there
// ends with the weights of the same run on local disk, bit for bit, and
// leaves the same files: checkpoints (marked complete), metrics.jsonl,
// plots and tag_ap.tsv.
func TestPretrainAtURL(t *testing.T) {
	torchtest.Need(t)
	local := writeSquareShards(t, traintest.NewSquares(96, 4, 24, 31), traintest.NewSquares(32, 4, 24, 32))
	srv := storagetest.StartS3(t, "data", "runs")
	srv.Env(t)
	ctx := context.Background()
	shardsURL := srv.URL("data", "shards")
	sd, err := storage.Open(ctx, shardsURL, srv.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer sd.Close()
	ents, err := os.ReadDir(local)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if err := sd.Upload(ctx, e.Name(), filepath.Join(local, e.Name())); err != nil {
			t.Fatal(err)
		}
	}

	c := DefaultConfig()
	c.Arch, c.Steps, c.Batch, c.ImageSize, c.Threads = "tiny", 6, 16, 24, 1
	c.CheckpointEvery, c.EvalEvery, c.LogEvery, c.Workers, c.Keep = 2, 3, 1, 2, 2
	lc := c
	lc.Shards, lc.Out = local, t.TempDir()
	lres, err := Run(ctx, lc, nil)
	if err != nil {
		t.Fatal(err)
	}
	uc := c
	uc.Shards, uc.Out, uc.Storage = shardsURL, srv.URL("runs", "pretrain/run1"), srv.Options()
	uc.CacheDir = t.TempDir()
	ures, err := Run(ctx, uc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := uc.Out + "/checkpoints/" + train.CheckpointName(6); ures.Checkpoint != want {
		t.Fatalf("final checkpoint %s, want %s", ures.Checkpoint, want)
	}
	if ures.Loss != lres.Loss || ures.Eval.MAP != lres.Eval.MAP {
		t.Fatalf("at the URL: loss %v, mAP %v; locally: loss %v, mAP %v", ures.Loss, ures.Eval.MAP, lres.Loss, lres.Eval.MAP)
	}
	run, err := storage.Open(ctx, uc.Out, srv.Options())
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	for _, f := range []string{train.MetricsFile, TagAPFile, "plots/" + train.PlotLoss, "plots/" + train.PlotEval,
		"checkpoints/" + train.CheckpointName(4) + "/" + train.CheckpointMarker,
		"checkpoints/" + train.CheckpointName(6) + "/" + train.CheckpointMarker} {
		if ok, err := run.Exists(ctx, f); !ok || err != nil {
			t.Errorf("the run at %s has no %s (%v)", uc.Out, f, err)
		}
	}
	if ok, _ := run.Exists(ctx, "checkpoints/"+train.CheckpointName(2)+"/"+train.ModelFile); ok {
		t.Errorf("--keep 2 left the checkpoint of step 2 at %s", uc.Out)
	}
	got, err := run.ReadAll(ctx, TagAPFile)
	if err != nil {
		t.Fatal(err)
	}
	if want, err := os.ReadFile(filepath.Join(lc.Out, TagAPFile)); err != nil || string(got) != string(want) {
		t.Errorf("%s at the URL differs from the local one (%v)", TagAPFile, err)
	}
	model, release, err := run.Local(ctx, "checkpoints/"+train.CheckpointName(6)+"/"+train.ModelFile)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	a, _, err := nets.LoadTensors(filepath.Join(lres.Checkpoint, train.ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := nets.LoadTensors(model)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%d tensors locally, %d at the URL", len(a), len(b))
	}
	for i := range a {
		x, _ := a[i].Tensor.Bytes()
		y, _ := b[i].Tensor.Bytes()
		if a[i].Name != b[i].Name || string(x) != string(y) {
			t.Errorf("tensor %s differs between the local run and the run from and to object storage", a[i].Name)
		}
		a[i].Tensor.Close()
		b[i].Tensor.Close()
	}

	// A fresh run over it is refused, as locally; a missing shard
	// directory is an error naming the URL.
	if _, err := Run(ctx, uc, nil); !errors.Is(err, train.ErrRunExists) {
		t.Fatalf("fresh run over an existing one at a URL: %v, want ErrRunExists", err)
	}
	uc.Shards, uc.Out = srv.URL("data", "nothing"), srv.URL("runs", "pretrain/run2")
	if _, err := Run(ctx, uc, nil); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), uc.Shards+"/manifest.json") {
		t.Fatalf("pretrain from a prefix with no shards: %v; want an error naming %s/manifest.json", err, uc.Shards)
	}
}
