package shards_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"weaksup/shards"
	"weaksup/shards/shardstest"
)

func TestShardRoundTrip(t *testing.T) {
	rows := shardstest.Rows(t, 2500, 50, 16) // crosses two record batch boundaries
	dir := t.TempDir()
	path := filepath.Join(dir, "shard-00000.arrow")
	w, err := shards.CreateShard(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if err := w.Append(&rows[i]); err != nil {
			t.Fatal(err)
		}
	}
	info, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if info.Rows != len(rows) || info.File != "shard-00000.arrow" {
		t.Errorf("info = %+v, want %d rows in shard-00000.arrow", info, len(rows))
	}
	s, err := shards.OpenShard(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := s.Batches(), 3; got != want {
		t.Errorf("record batches = %d, want %d", got, want)
	}
	for i := range rows {
		got, err := s.Row(i)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, rows[i]) {
			t.Fatalf("row %d = %+v\nwant %+v", i, got, rows[i])
		}
	}
	if _, err := s.Row(len(rows)); err == nil {
		t.Errorf("Row(%d) of %d rows: no error", len(rows), len(rows))
	}
}

// TestCompressionOnlyWhereItSaves checks that the random-looking image bytes
// stay raw while repetitive metadata is compressed: the file is barely larger
// than the image bytes though the metadata alone would add far more.
func TestCompressionOnlyWhereItSaves(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 2000
	var imgBytes, metaBytes int64
	dir := t.TempDir()
	w, err := shards.CreateShard(filepath.Join(dir, "a.arrow"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		img := make([]byte, 4000)
		for j := range img {
			img[j] = byte(r.Uint32())
		}
		url := fmt.Sprintf("https://images.example.org/photos/2016/some/long/path/%08d.jpg", i)
		tags := []string{"landscape", "mountain", "sunset", "nature"}
		row := shards.Row{Key: fmt.Sprintf("%08d", i), Image: img, URL: url, Tags: tags, RawTags: tags, Labels: []int32{1, 2, 3, 4}}
		if err := w.Append(&row); err != nil {
			t.Fatal(err)
		}
		imgBytes += int64(len(img))
		metaBytes += int64(len(url) + len(row.Key) + 2*(len("landscapemountainsunsetnature")+16) + 16)
	}
	info, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	overhead := info.Bytes - imgBytes
	if overhead < 0 || overhead > metaBytes/3 {
		t.Errorf("file %d bytes = images %d + %d; want images + under a third of the %d raw metadata bytes", info.Bytes, imgBytes, overhead, metaBytes)
	}
}
