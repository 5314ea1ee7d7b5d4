package beampipe

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"weaksup/canonicalize"
	"weaksup/shards"
	"weaksup/store"
)

func splitOf(cfg shards.Config, id string) string {
	if shards.InVal(cfg.Seed, id, cfg.ValFraction) {
		return shards.SplitVal
	}
	return shards.SplitTrain
}

// orderKey places a record in the seeded random order of the rows of a
// split, and its low bits pick the record's shard.
func orderKey(seed uint64, id string) uint64 {
	h := fnv.New64a()
	io.WriteString(h, strconv.FormatUint(seed, 10)+"\x00"+id)
	return h.Sum64()
}

// splitBytesFn emits each survivor's image bytes under its split, so that
// the number of shards of a split follows from --shard-mb.
type splitBytesFn struct {
	Cfg shards.Config
}

func (f *splitBytesFn) ProcessElement(r Rec) (string, int64) { return splitOf(f.Cfg, r.ID), r.Len }

// shardOfFn keys each survivor by its shard: "split/index", with
// ceil(split bytes / --shard-mb) shards per split.
type shardOfFn struct {
	Cfg shards.Config
}

func (f *shardOfFn) ProcessElement(r Rec, totals func(*string, *int64) bool) (string, Rec) {
	split := splitOf(f.Cfg, r.ID)
	var k string
	var n, total int64
	for totals(&k, &n) {
		if k == split {
			total += n
		}
	}
	size := int64(f.Cfg.ShardMB) << 20
	count := max(1, (total+size-1)/size)
	return fmt.Sprintf("%s/%d", split, orderKey(f.Cfg.Seed, r.ID)%uint64(count)), r
}

// writeShardFn writes one shard: its rows in the seeded order, images read
// from the chunk files, with the stage's own row and writer code.
type writeShardFn struct {
	Cfg     shards.Config
	Workdir string
	Tmp     string
}

func (f *writeShardFn) ProcessElement(key string, it func(*Rec) bool, emit func(ShardFile)) (err error) {
	split, idx, _ := strings.Cut(key, "/")
	index, _ := strconv.Atoi(idx)
	var rows []Rec
	var r Rec
	for it(&r) {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b Rec) int {
		ka, kb := orderKey(f.Cfg.Seed, a.ID), orderKey(f.Cfg.Seed, b.ID)
		if ka != kb {
			if ka < kb {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	if err := os.MkdirAll(f.Tmp, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", f.Tmp, err)
	}
	files := map[int]*os.File{}
	defer func() {
		for _, fh := range files {
			fh.Close()
		}
	}()
	name := shards.ShardFileName(split, index)
	w, err := shards.CreateShard(f.Tmp + "/" + name)
	if err != nil {
		return err
	}
	labels := map[int32]int64{}
	for i := range rows {
		r := &rows[i]
		fh := files[r.Chunk]
		if fh == nil {
			_, jpg := chunkPaths(f.Workdir, r.Chunk)
			if fh, err = os.Open(jpg); err != nil {
				w.Abort()
				return fmt.Errorf("read image of record %s: %w", r.ID, err)
			}
			files[r.Chunk] = fh
		}
		img := make([]byte, r.Len)
		if _, err := fh.ReadAt(img, r.Off); err != nil {
			w.Abort()
			return fmt.Errorf("read image of record %s from %s: %w", r.ID, fh.Name(), err)
		}
		row := shards.NewRow(r.storeRecord(), img, store.Labels{IDs: r.Labels, Tags: r.Tags})
		if err := w.Append(&row); err != nil {
			w.Abort()
			return err
		}
		for _, l := range r.Labels {
			labels[l]++
		}
	}
	info, err := w.Close()
	if err != nil {
		return err
	}
	sf := ShardFile{Split: split, Index: index, File: info.File, Rows: info.Rows, Bytes: info.Bytes, SHA256: info.SHA256}
	for l, n := range labels {
		sf.LabelIDs, sf.LabelN = append(sf.LabelIDs, l), append(sf.LabelN, n)
	}
	emit(sf)
	return nil
}

// manifestFn runs once every shard is written (they are its side input):
// it writes the manifest and swaps the shard directory in.
type manifestFn struct {
	Cfg shards.Config
	Tmp string
	Out string
}

func (f *manifestFn) ProcessElement(_ []byte, vocab []byte, files func(*ShardFile) bool) error {
	v, err := canonicalize.ReadVocabulary(bytes.NewReader(vocab), "vocab.tsv")
	if err != nil {
		return err
	}
	m := shards.NewManifest(f.Cfg, v)
	var all []ShardFile
	var sf ShardFile
	for files(&sf) {
		all = append(all, sf)
	}
	slices.SortFunc(all, func(a, b ShardFile) int { return a.Index - b.Index })
	for _, name := range []string{shards.SplitTrain, shards.SplitVal} {
		s := &shards.Split{Shards: []shards.ShardInfo{}, TagCounts: make([]int64, v.Len())}
		for _, sf := range all {
			if sf.Split != name {
				continue
			}
			s.Shards = append(s.Shards, shards.ShardInfo{File: sf.File, Rows: sf.Rows, Bytes: sf.Bytes, SHA256: sf.SHA256})
			s.Rows += sf.Rows
			s.Bytes += sf.Bytes
			for i, l := range sf.LabelIDs {
				if l >= 0 && int(l) < len(s.TagCounts) {
					s.TagCounts[l] += sf.LabelN[i]
				}
			}
		}
		m.Splits[name] = s
	}
	if err := os.MkdirAll(f.Tmp, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", f.Tmp, err)
	}
	if err := shards.WriteManifest(f.Tmp, m); err != nil {
		return err
	}
	return shards.InstallDir(f.Tmp, f.Out)
}
