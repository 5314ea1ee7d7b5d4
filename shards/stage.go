package shards

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"weaksup/canonicalize"
	"weaksup/progress"
	"weaksup/storage"
	"weaksup/store"
	"weaksup/workdir"
)

// ShardFileName is the file name of shard i of a split:
// shard-00012.arrow in the train split, val-00003.arrow in the val split.
func ShardFileName(split string, i int) string {
	prefix := "shard"
	if split == SplitVal {
		prefix = "val"
	}
	return fmt.Sprintf("%s-%05d.arrow", prefix, i)
}

// survivor is a record that goes into the shards.
type survivor struct {
	id     string
	labels store.Labels
}

// Stage is the pipeline stage name.
const Stage = "shards"

// Stats is what a shards run wrote. The pipeline keeps it in the stage
// record.
type Stats struct {
	TrainRows   int64 `json:"train_rows"`
	TrainShards int64 `json:"train_shards"`
	ValRows     int64 `json:"val_rows"`
	ValShards   int64 `json:"val_shards"`
	Bytes       int64 `json:"bytes"`   // shard files, both splits
	Skipped     int64 `json:"skipped"` // labelled records that are not ok or have no image
}

// Counts flattens the stats for display, under their JSON names.
func (s *Stats) Counts() map[string]int64 {
	if s == nil {
		return nil
	}
	return map[string]int64{
		"train_rows": s.TrainRows, "train_shards": s.TrainShards,
		"val_rows": s.ValRows, "val_shards": s.ValShards,
		"bytes": s.Bytes, "skipped": s.Skipped,
	}
}

// Run is the shards stage: every surviving labelled record of the working
// store (Outcome ok, labels in the vocabulary, no drop flag) goes into a
// shard of the train or val split, in a seeded random order. The new shard
// directory is built beside the output and swapped in when complete; a
// gs:// or s3:// output is written in place, its manifest last (runToURL).
func Run(ctx context.Context, st *store.Store, wd workdir.Dir, cfg Config, log io.Writer) (*Stats, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	out := cfg.Out
	if out == "" {
		out = wd.Shards()
	}
	vocab, err := canonicalize.LoadVocabulary(wd.Vocab())
	if err != nil {
		return nil, fmt.Errorf("run shards: %w (run the canonicalize stage first)", err)
	}
	train, val, err := survivors(st, cfg, vocab.Len())
	if err != nil {
		return nil, err
	}
	if storage.IsURL(out) {
		return runToURL(ctx, st, cfg, vocab, train, val, out, log)
	}
	if err := recoverSwap(out); err != nil {
		return nil, err
	}
	tmp := out + ".new"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("clear %s: %w", tmp, err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", tmp, err)
	}
	m, stats, err := writeSplits(ctx, st, cfg, vocab, train, val, log, func(name string) (*ShardWriter, error) {
		return CreateShard(filepath.Join(tmp, name))
	})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := WriteManifest(tmp, m); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := InstallDir(tmp, out); err != nil {
		return nil, err
	}
	return stats, nil
}

// runToURL writes the shards to a gs:// or s3:// directory, which has no
// renames to swap a directory in with: the old manifest is deleted first,
// each shard appears whole when its upload completes, the new manifest is
// written last, and shards of an earlier run that it does not list are
// deleted after it. Readers go through the manifest, so a reader never
// takes a new shard for an old one; between the first deletion and the
// last write there is no shard directory to read.
func runToURL(ctx context.Context, st *store.Store, cfg Config, vocab *canonicalize.Vocabulary, train, val []survivor, out string, log io.Writer) (*Stats, error) {
	d, err := storage.Create(ctx, out, nil)
	if err != nil {
		return nil, fmt.Errorf("run shards: %w", err)
	}
	defer d.Close()
	if err := d.Delete(ctx, ManifestName); err != nil {
		return nil, fmt.Errorf("run shards: %w", err)
	}
	m, stats, err := writeSplits(ctx, st, cfg, vocab, train, val, log, func(name string) (*ShardWriter, error) {
		return CreateShardIn(ctx, d, name)
	})
	if err != nil {
		return nil, err
	}
	if err := WriteManifestIn(ctx, d, m); err != nil {
		return nil, err
	}
	if err := RemoveUnlisted(ctx, d, m); err != nil {
		return nil, err
	}
	return stats, nil
}

// RemoveUnlisted deletes the shard files (shard-*.arrow, val-*.arrow) of
// d that manifest m does not list: those of an earlier, larger run that a
// new one wrote over.
func RemoveUnlisted(ctx context.Context, d *storage.Dir, m *Manifest) error {
	listed := map[string]bool{}
	for _, sp := range m.Splits {
		for _, sh := range sp.Shards {
			listed[sh.File] = true
		}
	}
	objs, err := d.List(ctx, "")
	if err != nil {
		return fmt.Errorf("remove old shards: %w", err)
	}
	for _, o := range objs {
		if strings.Contains(o.Key, "/") || listed[o.Key] || !shardFileName.MatchString(o.Key) {
			continue
		}
		if err := d.Delete(ctx, o.Key); err != nil {
			return fmt.Errorf("remove old shards: %w", err)
		}
	}
	return nil
}

// shardFileName matches the names ShardFileName gives.
var shardFileName = regexp.MustCompile(`^(shard|val)-[0-9]{5,}\.arrow$`)

// writeSplits writes the train and val rows into shards made by create and
// returns the manifest (to be written) and the stats.
func writeSplits(ctx context.Context, st *store.Store, cfg Config, vocab *canonicalize.Vocabulary, train, val []survivor, log io.Writer,
	create func(name string) (*ShardWriter, error)) (*Manifest, *Stats, error) {
	m := NewManifest(cfg, vocab)
	stats := new(Stats)
	bar := progress.New(log, int64(len(train)+len(val)), Stage)
	for _, sp := range []struct {
		name string
		rows []survivor
	}{{SplitTrain, train}, {SplitVal, val}} {
		s, skipped, err := writeSplit(ctx, st, sp.name, sp.rows, int64(cfg.ShardMB)<<20, vocab.Len(), bar, create)
		if err != nil {
			return nil, nil, err
		}
		m.Splits[sp.name] = s
		rows, shards := &stats.TrainRows, &stats.TrainShards
		if sp.name == SplitVal {
			rows, shards = &stats.ValRows, &stats.ValShards
		}
		*rows, *shards = int64(s.Rows), int64(len(s.Shards))
		stats.Bytes += s.Bytes
		stats.Skipped += skipped
	}
	bar.Finish()
	return m, stats, nil
}

// NewManifest starts the manifest of a shard directory written with cfg
// for vocab; the caller adds the splits.
func NewManifest(cfg Config, vocab *canonicalize.Vocabulary) *Manifest {
	m := &Manifest{Version: manifestVersion, Created: time.Now().UTC(), Config: cfg, VocabHash: vocab.Hash(),
		NumClasses: vocab.Len(), Splits: map[string]*Split{}}
	for _, e := range vocab.Entries {
		m.Tags = append(m.Tags, e.Tag)
	}
	return m
}

// InstallDir makes the complete shard directory tmp (manifest written) the
// shard directory out: tmp is synced, then swapped in for out. A directory
// left half-swapped by a crash is restored first. tmp is removed when it
// cannot be installed.
func InstallDir(tmp, out string) error {
	if err := recoverSwap(out); err != nil {
		return err
	}
	if err := syncDir(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return swapDir(tmp, out)
}

// survivors lists the records that go into shards, split into train and val
// and each in its seeded random order. Membership of val depends only on the
// seed and the record id, so a record stays in the same split when the
// dataset grows.
func survivors(st *store.Store, cfg Config, numClasses int) (train, val []survivor, err error) {
	dropped, err := st.Dropped()
	if err != nil {
		return nil, nil, fmt.Errorf("read drop flags: %w", err)
	}
	var all []survivor
	err = st.ScanLabels(func(id string, l store.Labels) error {
		if len(l.IDs) == 0 {
			return nil
		}
		if _, gone := dropped[id]; gone {
			return nil
		}
		for _, t := range l.IDs {
			if t < 0 || int(t) >= numClasses {
				return fmt.Errorf("record %s: label id %d outside the vocabulary of %d tags", id, t, numClasses)
			}
		}
		all = append(all, survivor{id: id, labels: l})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("scan labels: %w", err)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	for _, s := range all {
		if InVal(cfg.Seed, s.id, cfg.ValFraction) {
			val = append(val, s)
		} else {
			train = append(train, s)
		}
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	r.Shuffle(len(train), func(i, j int) { train[i], train[j] = train[j], train[i] })
	r.Shuffle(len(val), func(i, j int) { val[i], val[j] = val[j], val[i] })
	return train, val, nil
}

// InVal decides held-out membership from a hash of (seed, id): FNV-1a of
// the id, mixed with the seed by two splitmix64 rounds. Changing it moves
// records between the splits of a rerun.
func InVal(seed uint64, id string, fraction float64) bool {
	h := fnv.New64a()
	io.WriteString(h, id)
	u := seed
	for _, v := range [...]uint64{0, h.Sum64()} {
		u += 0x9e3779b97f4a7c15 + v
		u = (u ^ (u >> 30)) * 0xbf58476d1ce4e5b9
		u = (u ^ (u >> 27)) * 0x94d049bb133111eb
		u ^= u >> 31
	}
	return float64(u>>11)/float64(1<<53) < fraction
}

// fetched is one row read from the store, or why it was skipped.
type fetched struct {
	row  Row
	skip bool
	err  error
}

// writeSplit writes rows into shards of about shardBytes each.
func writeSplit(ctx context.Context, st *store.Store, split string, rows []survivor, shardBytes int64, numClasses int, bar *progress.Bar,
	create func(name string) (*ShardWriter, error)) (*Split, int64, error) {
	s := &Split{Shards: []ShardInfo{}, TagCounts: make([]int64, numClasses)}
	ch := make(chan fetched, 256)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // read ahead of the writer so store reads overlap encoding and I/O
		defer close(ch)
		for _, sv := range rows {
			f := fetch(st, sv)
			select {
			case ch <- f:
			case <-ctx.Done():
				return
			}
		}
	}()
	var w *ShardWriter
	var skipped int64
	finish := func() error {
		info, err := w.Close()
		w = nil
		if err != nil {
			return err
		}
		s.Shards = append(s.Shards, info)
		s.Rows += info.Rows
		s.Bytes += info.Bytes
		return nil
	}
	for f := range ch {
		if err := ctx.Err(); err != nil {
			if w != nil {
				w.Abort()
			}
			return nil, 0, err
		}
		bar.Add(1)
		if f.err != nil {
			if w != nil {
				w.Abort()
			}
			return nil, 0, f.err
		}
		if f.skip {
			skipped++
			bar.Inc("skipped")
			continue
		}
		if w == nil {
			var err error
			if w, err = create(ShardFileName(split, len(s.Shards))); err != nil {
				return nil, 0, err
			}
		}
		if err := w.Append(&f.row); err != nil {
			w.Abort()
			return nil, 0, err
		}
		for _, t := range f.row.Labels {
			s.TagCounts[t]++
		}
		if w.Bytes() >= shardBytes {
			if err := finish(); err != nil {
				return nil, 0, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		if w != nil {
			w.Abort()
		}
		return nil, 0, err
	}
	if w != nil {
		if err := finish(); err != nil {
			return nil, 0, err
		}
	}
	return s, skipped, nil
}

// fetch reads one survivor's record and image; records that are not ok or
// have no image are skipped.
func fetch(st *store.Store, sv survivor) fetched {
	rec, err := st.Record(sv.id)
	if errors.Is(err, store.ErrNotFound) {
		return fetched{skip: true}
	}
	if err != nil {
		return fetched{err: fmt.Errorf("read record %s: %w", sv.id, err)}
	}
	if !rec.OK() {
		return fetched{skip: true}
	}
	img, err := st.Image(sv.id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(img) == 0) {
		return fetched{skip: true}
	}
	if err != nil {
		return fetched{err: fmt.Errorf("read image of record %s: %w", sv.id, err)}
	}
	return fetched{row: NewRow(rec, img, sv.labels)}
}

// NewRow is the shard row of a record, its stored image and its labels.
func NewRow(rec *store.Record, img []byte, l store.Labels) Row {
	return Row{
		Key: rec.ID, Image: img, Width: clampInt32(rec.Width), Height: clampInt32(rec.Height),
		Labels: l.IDs, Tags: l.Tags, RawTags: rec.RawTags, URL: rec.URL,
		PHash: rec.PHash, SHA256: rec.SHA256,
	}
}

func clampInt32(v int) int32 {
	return int32(max(math.MinInt32, min(math.MaxInt32, v)))
}

// swapDir replaces out with the complete directory tmp: out moves to
// out.old, tmp to out, and out.old is removed. If the process dies between
// the renames, recoverSwap puts the old directory back on the next run.
func swapDir(tmp, out string) error {
	old := out + ".old"
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("clear %s: %w", old, err)
	}
	if _, err := os.Stat(out); err == nil {
		if err := os.Rename(out, old); err != nil {
			return fmt.Errorf("move old shards %s aside: %w", out, err)
		}
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("install shards %s: %w", out, err)
	}
	if err := syncDir(filepath.Dir(out)); err != nil {
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("remove old shards %s: %w", old, err)
	}
	return nil
}

// recoverSwap restores out from out.old after a crash between swapDir's
// renames.
func recoverSwap(out string) error {
	old := out + ".old"
	if _, err := os.Stat(old); err != nil {
		return nil
	}
	if _, err := os.Stat(out); err == nil {
		return nil // swap finished; swapDir clears old next time
	}
	if err := os.Rename(old, out); err != nil {
		return fmt.Errorf("restore shards %s from %s: %w", out, old, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
