package shards

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
	"weaksup/internal/testkit"
)

// testRows makes n rows with 1–3 labels out of k drawn from a Zipf-like
// distribution, and small JPEGs.
func testRows(tb testing.TB, n, k, side int) []Row {
	tb.Helper()
	r := rand.New(rand.NewPCG(uint64(n), uint64(k)))
	rows := make([]Row, n)
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
		rows[i] = Row{
			Key: fmt.Sprintf("rec-%06d", i), Image: testkit.PhotoJPEG(tb, uint64(i), side, side, 80),
			Width: int32(side), Height: int32(side), Labels: labels, Tags: tags,
			RawTags: append([]string{"#Raw"}, tags...), URL: fmt.Sprintf("https://example.org/%d.jpg", i),
			PHash: r.Uint64(),
		}
		rows[i].SHA256[0] = byte(i)
	}
	return rows
}

// writeTestDir writes rows as a train split of shards with perShard rows
// each (and an empty val split) plus a manifest, and returns the directory.
func writeTestDir(tb testing.TB, rows []Row, perShard, k int) string {
	tb.Helper()
	dir := tb.TempDir()
	m := &Manifest{Version: manifestVersion, Created: time.Unix(0, 0).UTC(), Config: DefaultConfig(), NumClasses: k,
		Splits: map[string]*Split{SplitTrain: {TagCounts: make([]int64, k)}, SplitVal: {TagCounts: make([]int64, k)}}}
	for t := 0; t < k; t++ {
		m.Tags = append(m.Tags, fmt.Sprintf("tag%d", t))
	}
	sp := m.Splits[SplitTrain]
	for s := 0; s*perShard < len(rows); s++ {
		w, err := CreateShard(filepath.Join(dir, ShardFileName(SplitTrain, s)))
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
	if err := WriteManifest(dir, m); err != nil {
		tb.Fatal(err)
	}
	return dir
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
