package loader

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/internal/testkit"
	"weaksup/shards/shardstest"
)

// TestLoaderNamesTruncatedShard: a shard cut short on disk ends the loader
// with an error naming the file.
func TestLoaderNamesTruncatedShard(t *testing.T) {
	rows := shardstest.Rows(t, 60, 5, 16)
	dir := shardstest.WriteDir(t, rows, 30, 5)
	path := filepath.Join(dir, "shard-00001.arrow")
	data := testkit.ReadFile(t, path)
	for _, keep := range []int{0, 7, len(data) / 2, len(data) - 3} {
		if err := os.WriteFile(path, data[:keep], 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := Open(dir, Config{Batch: 8, ImageSize: 8, NoShuffle: true, Epochs: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = drain(t, l, -1)
		l.Close()
		if err == nil || !strings.Contains(err.Error(), "shard-00001.arrow") {
			t.Errorf("load with shard-00001.arrow truncated to %d bytes: err = %v, want an error naming it", keep, err)
		}
	}
}

func TestLoaderNamesUndecodableImage(t *testing.T) {
	rows := shardstest.FakeJPEGRows(12)
	dir := shardstest.WriteDir(t, rows, 6, 4)
	for _, fraction := range []float64{0, 0.5} { // the whole split, and a Subset of it
		l, err := Open(dir, Config{Batch: 4, ImageSize: 8, NoShuffle: true, Epochs: 1, Fraction: fraction})
		if err != nil {
			t.Fatal(err)
		}
		_, err = l.Next(context.Background())
		if err == nil || !strings.Contains(err.Error(), "shard-00000.arrow row ") || !strings.Contains(err.Error(), "decode ") {
			t.Errorf("fraction %g: Next over random bytes: err = %v, want a decode error naming shard-00000.arrow and a row", fraction, err)
		}
		if _, err2 := l.Next(context.Background()); err2 == nil {
			t.Errorf("fraction %g: Next after an error: no error", fraction)
		}
		l.Close()
	}
}
