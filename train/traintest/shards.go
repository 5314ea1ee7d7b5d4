package traintest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"weaksup/shards"
)

// WriteShards writes generated images into dir as a shard directory the
// way the shards stage lays it out: shard-00000.arrow, val-00000.arrow and
// a manifest whose tags are color0, color1, ….
func WriteShards(dir string, train, val *Squares) error {
	k := train.classes
	m := &shards.Manifest{Version: 1, Created: time.Now().UTC(), Config: shards.DefaultConfig(), NumClasses: k,
		Splits: map[string]*shards.Split{}}
	for c := 0; c < k; c++ {
		m.Tags = append(m.Tags, fmt.Sprintf("color%d", c))
	}
	for _, sp := range []struct {
		name, file string
		src        *Squares
	}{{shards.SplitTrain, "shard-00000.arrow", train}, {shards.SplitVal, "val-00000.arrow", val}} {
		w, err := shards.CreateShard(filepath.Join(dir, sp.file))
		if err != nil {
			return err
		}
		split := &shards.Split{TagCounts: make([]int64, k)}
		for i := range sp.src.images {
			row := shards.Row{Key: fmt.Sprintf("%s-%d", sp.name, i), Image: sp.src.images[i], Labels: sp.src.labels[i]}
			for _, l := range row.Labels {
				row.Tags = append(row.Tags, m.Tags[l])
				split.TagCounts[l]++
			}
			if err := w.Append(&row); err != nil {
				return err
			}
		}
		info, err := w.Close()
		if err != nil {
			return err
		}
		split.Shards, split.Rows, split.Bytes = []shards.ShardInfo{info}, info.Rows, info.Bytes
		m.Splits[sp.name] = split
	}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, shards.ManifestName), data, 0o644); err != nil {
		return err
	}
	if _, err := shards.ReadManifest(dir); err != nil {
		return fmt.Errorf("the shard directory does not read back: %w", err)
	}
	return nil
}
