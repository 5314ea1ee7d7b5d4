package loader

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weaksup/shards"
)

// TestLoaderNamesTruncatedShard: a shard cut short on disk ends the loader
// with an error naming the file.
func TestLoaderNamesTruncatedShard(t *testing.T) {
	rows := testRows(t, 60, 5, 16)
	dir := writeTestDir(t, rows, 30, 5)
	path := filepath.Join(dir, "shard-00001.arrow")
	data := mustRead(t, path)
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

// fakeJPEGRows have random images that start like a JPEG.
func fakeJPEGRows(n int) []shards.Row {
	r := rand.New(rand.NewPCG(5, 5))
	rows := make([]shards.Row, n)
	for i := range rows {
		img := make([]byte, 3000)
		for j := range img {
			img[j] = byte(r.Uint32())
		}
		img[0], img[1] = 0xff, 0xd8
		rows[i] = shards.Row{Key: string(rune('a'+i%26)) + strings.Repeat("x", i/26), Image: img, Labels: []int32{int32(i % 4)}, Tags: []string{"t"}}
	}
	return rows
}

func TestLoaderNamesUndecodableImage(t *testing.T) {
	rows := fakeJPEGRows(12)
	dir := writeTestDir(t, rows, 6, 4)
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
