// Package shardstest writes small shard directories for the tests of
// package shards and of the packages that read shards (the loader): rows
// with Zipf-like labels and photo-like JPEGs, rows whose images only look
// like JPEGs, and a train split of them with its manifest.
//
// It writes through package shards' own writer, so shards' tests of it
// live in the external test package shards_test.
package shardstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"weaksup/internal/testkit"
	"weaksup/shards"
)

// Rows makes n rows with 1–3 labels out of k drawn from a Zipf-like
// distribution, and side×side photo-like JPEGs. The same arguments give
// the same rows.
func Rows(tb testing.TB, n, k, side int) []shards.Row {
	tb.Helper()
	r := rand.New(rand.NewPCG(uint64(n), uint64(k)))
	rows := make([]shards.Row, n)
	for i := range rows {
		nl := 1 + r.IntN(3)
		seen := map[int32]bool{}
		var labels []int32
		var tags []string
		for len(labels) < nl {
			t := int32(math.Min(float64(k-1), math.Floor(math.Exp(r.Float64()*math.Log(float64(k+1))))-1))
			if !seen[t] {
				seen[t] = true
				labels = append(labels, t)
				tags = append(tags, fmt.Sprintf("tag%d", t))
			}
		}
		rows[i] = shards.Row{
			Key: fmt.Sprintf("rec-%06d", i), Image: testkit.PhotoJPEG(tb, uint64(i), side, side, 80),
			Width: int32(side), Height: int32(side), Labels: labels, Tags: tags,
			RawTags: append([]string{"#Raw"}, tags...), URL: fmt.Sprintf("https://example.org/%d.jpg", i),
			PHash: r.Uint64(),
		}
		rows[i].SHA256[0] = byte(i)
	}
	return rows
}

// FakeJPEGRows makes n rows of one label out of 4 whose images are 3,000
// random bytes that start like a JPEG: they do not decode, and being
// incompressible they appear verbatim in a shard file.
func FakeJPEGRows(n int) []shards.Row {
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

// WriteDir writes rows as the train split of a new shard directory under
// tb.TempDir (see Write) and returns it.
func WriteDir(tb testing.TB, rows []shards.Row, perShard, k int) string {
	tb.Helper()
	dir := tb.TempDir()
	Write(tb, dir, rows, perShard, k)
	return dir
}

// Write writes rows as the train split of the shard directory dir — a
// local path or a gs:// or s3:// URL —, perShard rows a shard (and an
// empty val split), with a manifest naming k tags "tag0".."tagK-1".
func Write(tb testing.TB, dir string, rows []shards.Row, perShard, k int) {
	tb.Helper()
	m := &shards.Manifest{Created: time.Unix(0, 0).UTC(), Config: shards.DefaultConfig(), NumClasses: k,
		Splits: map[string]*shards.Split{shards.SplitTrain: {TagCounts: make([]int64, k)}, shards.SplitVal: {TagCounts: make([]int64, k)}}}
	for t := 0; t < k; t++ {
		m.Tags = append(m.Tags, fmt.Sprintf("tag%d", t))
	}
	sp := m.Splits[shards.SplitTrain]
	for s := 0; s*perShard < len(rows); s++ {
		w, err := shards.CreateShard(strings.TrimSuffix(dir, "/") + "/" + shards.ShardFileName(shards.SplitTrain, s))
		if err != nil {
			tb.Fatal(err)
		}
		for i := s * perShard; i < min(len(rows), (s+1)*perShard); i++ {
			if err := w.Append(&rows[i]); err != nil {
				tb.Fatal(err)
			}
			for _, t := range rows[i].Labels {
				sp.TagCounts[t]++
			}
		}
		info, err := w.Close()
		if err != nil {
			tb.Fatal(err)
		}
		sp.Shards = append(sp.Shards, info)
		sp.Rows += info.Rows
		sp.Bytes += info.Bytes
	}
	if err := shards.WriteManifest(dir, m); err != nil {
		tb.Fatal(err)
	}
}
