package shards

import "fmt"

// shardName is the file name of shard i of a split.
func shardName(split string, i int) string {
	prefix := "shard"
	if split == SplitVal {
		prefix = "val"
	}
	return fmt.Sprintf("%s-%05d.arrow", prefix, i)
}
