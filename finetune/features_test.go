package finetune

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"weaksup/datasets"
	"weaksup/datasets/datasetstest"
	"weaksup/torch"
	"weaksup/torch/torchtest"
	"weaksup/train"
)

func TestFeatureFileRoundTripAndDamage(t *testing.T) {
	dir := t.TempDir()
	f := &Features{Dim: 3, Classes: 4, Vectors: []float32{1, 2, 3, -4, 5.5, 6e-7}, Labels: []int32{3, 0}, Done: 2}
	path := filepath.Join(dir, "train.feat")
	if err := WriteFeatures(path, "k1", f); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFeatures(path, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, f) {
		t.Errorf("round trip: got %+v, want %+v", got, f)
	}
	if _, err := ReadFeatures(path, "k2"); !errors.Is(err, ErrStaleFeatures) {
		t.Errorf("other key: got %v, want ErrStaleFeatures", err)
	}
	good, _ := os.ReadFile(path)
	badLabel := append([]byte(nil), good...)
	badLabel[len(badLabel)-4] = 9 // the last label becomes 9 of 4 classes
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)-3], "bytes of data"},
		{"not a feature file", []byte("PK\x03\x04 zip"), "not a weaksup feature file"},
		{"header past end", append([]byte(featureMagic), 0xff, 0xff, 0, 0), "header runs past"},
		{"label out of range", badLabel, "class 9 outside"},
	}
	for _, tc := range cases {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".feat")
		os.WriteFile(p, tc.data, 0o644)
		_, err := ReadFeatures(p, "k1")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: got %v, want an error naming %s and containing %q", tc.name, err, p, tc.want)
		}
	}
}

func TestFeatureKeyFollowsWeightsAndImages(t *testing.T) {
	dir := t.TempDir()
	datasetstest.ImageFolder(t, filepath.Join(dir, "data"), datasetstest.Spec{K: 2, Train: 2, Val: 1, Size: 8})
	ds, err := datasets.OpenImageFolder(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ds.Split(datasets.SplitTrain)
	if err != nil {
		t.Fatal(err)
	}
	items := sp.(datasets.Files)
	w := filepath.Join(dir, "w.safetensors")
	os.WriteFile(w, []byte("weights v1"), 0o644)
	key := func() string {
		t.Helper()
		k, err := FeatureKey(w, 1, "resnext_tiny", 32, items)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := key()
	if again := key(); again != base {
		t.Fatalf("same inputs: key %s then %s", base, again)
	}
	changes := []struct {
		name   string
		change func()
		k      func() (string, error)
	}{
		{"other size", nil, func() (string, error) { return FeatureKey(w, 1, "resnext_tiny", 64, items) }},
		{"other arch", nil, func() (string, error) { return FeatureKey(w, 1, "resnext29_small", 32, items) }},
		{"random init", nil, func() (string, error) { return FeatureKey("", 1, "resnext_tiny", 32, items) }},
		{"fewer images", nil, func() (string, error) { return FeatureKey(w, 1, "resnext_tiny", 32, items[1:]) }},
		{"weights rewritten", func() { os.WriteFile(w, []byte("weights v2"), 0o644) }, nil},
		{"image touched", func() {
			later := time.Now().Add(time.Hour)
			os.Chtimes(items[0].Path, later, later)
		}, nil},
	}
	seen := map[string]string{base: "base"}
	for _, c := range changes {
		var k string
		if c.change != nil {
			c.change()
			k = key()
		} else {
			k, err = c.k()
			if err != nil {
				t.Fatal(err)
			}
		}
		if prev, dup := seen[k]; dup {
			t.Errorf("%s: same key as %s", c.name, prev)
		}
		seen[k] = c.name
	}
}

// cancelAfter cancels a context once its model has computed n batches of
// features: an interruption in the middle of an extraction.
type cancelAfter struct {
	train.Model
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Features(x *torch.Tensor, tr bool) (*torch.Tensor, error) {
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return c.Model.Features(x, tr)
}

func TestInterruptedExtractionContinues(t *testing.T) {
	torchtest.Need(t)
	dir := t.TempDir()
	datasetstest.ImageFolder(t, filepath.Join(dir, "data"), datasetstest.Spec{K: 4, Train: 10, Val: 1, Size: 16})
	ds, err := datasets.OpenImageFolder(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ds.Split(datasets.SplitTrain)
	if err != nil {
		t.Fatal(err)
	}
	items := sp.(datasets.Files)
	m, _, err := NewModel(ModelConfig{From: FromNone, Arch: "tiny", Classes: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	o := ExtractOptions{ImageSize: 16, Batch: 8, Workers: 2}
	want, err := extract(context.Background(), m, items, 4, o)
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "features")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, _, err = CachedFeatures(ctx, cache, datasets.SplitTrain, "key", &cancelAfter{Model: m, n: 2, cancel: cancel}, items, 4, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted extraction: got %v, want context.Canceled", err)
	}
	files, _ := featureFiles(cache)
	if len(files) != 1 {
		t.Fatalf("interrupted extraction left %v, want one partial file", files)
	}
	partial, err := ReadFeatures(filepath.Join(cache, files[0]), "key")
	if err != nil {
		t.Fatal(err)
	}
	if partial.Done < 16 || partial.Done >= len(items) {
		t.Fatalf("partial file: %d of %d images done, want at least the 2 batches computed and not all", partial.Done, len(items))
	}
	got, cached, err := CachedFeatures(context.Background(), cache, datasets.SplitTrain, "key", m, items, 4, o)
	if err != nil {
		t.Fatal(err)
	}
	if cached {
		t.Error("continued extraction reported as fully cached")
	}
	if got.Done != len(items) || !reflect.DeepEqual(got.Vectors, want.Vectors) || !reflect.DeepEqual(got.Labels, want.Labels) {
		t.Errorf("continued extraction (%d done) differs from an uninterrupted one", got.Done)
	}
	if _, cached, err := CachedFeatures(context.Background(), cache, datasets.SplitTrain, "key", m, items, 4, o); err != nil || !cached {
		t.Errorf("third call: cached %v, %v; want the complete file reused", cached, err)
	}
}
