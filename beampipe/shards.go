package beampipe

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"weaksup/canonicalize"
	"weaksup/shards"
	"weaksup/storage"
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
// from the chunk files, with the stage's own row and writer code. Dest is
// where the shard goes: the local directory swapped in at the end, or the
// gs:// or s3:// output itself.
type writeShardFn struct {
	Cfg     shards.Config
	Workdir string
	Dest    string
}

// imageReads bounds the images of a shard being read from the chunk files
// at once: enough to hide an object store's time to first byte.
const imageReads = 32

func (f *writeShardFn) ProcessElement(ctx context.Context, key string, it func(*Rec) bool, emit func(ShardFile)) (err error) {
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
	d, err := workdirOf(f.Workdir)
	if err != nil {
		return err
	}
	if !storage.IsURL(f.Dest) {
		if err := os.MkdirAll(f.Dest, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", f.Dest, err)
		}
	}
	name := shards.ShardFileName(split, index)
	w, err := shards.CreateShard(joinLoc(f.Dest, name))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	images := readImages(ctx, d, rows)
	labels := map[int32]int64{}
	for i := range rows {
		r := &rows[i]
		im := <-images
		<-im.done
		if im.err != nil {
			w.Abort()
			return fmt.Errorf("read image of record %s: %w", r.ID, im.err)
		}
		row := shards.NewRow(r.storeRecord(), im.b, store.Labels{IDs: r.Labels, Tags: r.Tags})
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

// chunkImage is one row's image bytes, read ahead.
type chunkImage struct {
	done chan struct{}
	b    []byte
	err  error
}

// readImages reads the images of rows from their chunk files, up to
// imageReads at a time, and hands them over in the rows' order (at most
// imageReads ahead of the reader). Cancelling ctx stops it.
func readImages(ctx context.Context, d *storage.Dir, rows []Rec) <-chan *chunkImage {
	out := make(chan *chunkImage, imageReads)
	go func() {
		defer close(out)
		sem := make(chan struct{}, imageReads)
		objects := map[int]*storage.Object{}
		defer func() {
			for _, o := range objects {
				o.Close()
			}
		}()
		var wg sync.WaitGroup
		defer wg.Wait()
		for i := range rows {
			r := &rows[i]
			im := &chunkImage{done: make(chan struct{})}
			select {
			case out <- im:
			case <-ctx.Done():
				return
			}
			o := objects[r.Chunk]
			if o == nil {
				_, jpg := chunkKeys(r.Chunk)
				var err error
				if o, err = d.Open(ctx, jpg); err != nil {
					im.err = err
					close(im.done)
					continue
				}
				objects[r.Chunk] = o
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				im.err = ctx.Err()
				close(im.done)
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				im.b = make([]byte, r.Len)
				_, im.err = o.ReadAt(im.b, r.Off)
				close(im.done)
			}()
		}
	}()
	return out
}

// joinLoc is the location of name in dir, a local path or a URL.
func joinLoc(dir, name string) string {
	if storage.IsURL(dir) {
		return strings.TrimSuffix(dir, "/") + "/" + name
	}
	return filepath.Join(dir, name)
}

// manifestFn runs once every shard is written (they are its side input):
// it writes the manifest and swaps the shard directory in; at a gs:// or
// s3:// output (Tmp empty), where the shards were written in place, it
// writes the manifest last and removes shards of an earlier run that it
// does not list.
type manifestFn struct {
	Cfg shards.Config
	Tmp string
	Out string
}

func (f *manifestFn) ProcessElement(ctx context.Context, _ []byte, vocab []byte, files func(*ShardFile) bool) error {
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
	if f.Tmp == "" {
		d, err := storage.Create(ctx, f.Out, nil)
		if err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
		defer d.Close()
		if err := shards.WriteManifestIn(ctx, d, m); err != nil {
			return err
		}
		return shards.RemoveUnlisted(ctx, d, m)
	}
	if err := os.MkdirAll(f.Tmp, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", f.Tmp, err)
	}
	if err := shards.WriteManifest(f.Tmp, m); err != nil {
		return err
	}
	return shards.InstallDir(f.Tmp, f.Out)
}
