package shards

import (
	"fmt"
	"path/filepath"
	"sort"
	"sync"

	"weaksup/storage"
)

// maxOpenShards bounds how many shard files a ShardSet keeps mapped, and
// maxOpenStreamed how many shards read in place (whose mappings hold only
// their index columns, so that reopening one, which fetches them again, is
// rare while a shuffle buffer spans many shards).
const (
	maxOpenShards   = 8
	maxOpenStreamed = 64
)

// ShardSet is random access to the rows of one split of a shard directory,
// numbered across its shards in manifest order. Shards are opened on first
// use and at most maxOpenShards stay open; a shard in use by a reader is
// closed only after the reader is done with it. Safe for concurrent use.
type ShardSet struct {
	dir    string
	m      *Manifest
	split  *Split
	starts []int // first global row of each shard

	openFile func(file string) (*Shard, error)
	closeDir func() error // the storage.Dir of a URL the set opened itself
	maxOpen  int
	fetch    *prefetcher // shards read in place: images fetched ahead

	mu   sync.Mutex
	open map[int]*openShard
	tick int64
}

type openShard struct {
	s       *Shard
	err     error
	ready   chan struct{} // closed once s or err is set
	refs    int
	used    int64
	evicted bool
}

// OpenShardSet reads dir/manifest.json and returns the named split. Shard
// files are opened lazily; their schema is checked when they are. dir may
// be a gs:// or s3:// URL (see OpenShardSetIn for a cached one).
func OpenShardSet(dir, split string) (*ShardSet, error) {
	if storage.IsURL(dir) {
		return openShardSetURL(dir, split)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	return newShardSet(dir, m, split, func(file string) (*Shard, error) {
		return OpenShard(filepath.Join(dir, file))
	})
}

func newShardSet(dir string, m *Manifest, split string, openFile func(string) (*Shard, error)) (*ShardSet, error) {
	sp, err := m.Split(dir, split)
	if err != nil {
		return nil, err
	}
	ss := &ShardSet{dir: dir, m: m, split: sp, open: map[int]*openShard{}, openFile: openFile, maxOpen: maxOpenShards}
	n := 0
	for _, sh := range sp.Shards {
		ss.starts = append(ss.starts, n)
		n += sh.Rows
	}
	return ss, nil
}

// Manifest returns the directory's manifest.
func (ss *ShardSet) Manifest() *Manifest { return ss.m }

// Len is the number of rows in the split.
func (ss *ShardSet) Len() int { return ss.split.Rows }

// NumClasses is the size of the vocabulary the labels index.
func (ss *ShardSet) NumClasses() int { return ss.m.NumClasses }

// TagCounts is how many rows of the split carry each label (from the
// manifest).
func (ss *ShardSet) TagCounts() []int64 { return ss.split.TagCounts }

// Blocks is the number of rows of each shard, in row order.
func (ss *ShardSet) Blocks() []int { return ss.split.Blocks() }

func (ss *ShardSet) locate(i int) (int, int, error) {
	if i < 0 || i >= ss.split.Rows {
		return 0, 0, fmt.Errorf("read %s: item %d out of range [0,%d)", ss.dir, i, ss.split.Rows)
	}
	k := sort.Search(len(ss.starts), func(k int) bool { return ss.starts[k] > i }) - 1
	return k, i - ss.starts[k], nil
}

// acquire returns shard k open, with a reference the caller must release.
// Opening a shard (which may fetch its index over the network) holds no
// lock: readers of other shards go on meanwhile, and readers of k wait.
func (ss *ShardSet) acquire(k int) (*openShard, error) {
	ss.mu.Lock()
	ss.tick++
	if o, ok := ss.open[k]; ok {
		o.refs++
		o.used = ss.tick
		ss.mu.Unlock()
		<-o.ready
		if o.err != nil {
			ss.release(o)
			return nil, o.err
		}
		return o, nil
	}
	o := &openShard{refs: 1, used: ss.tick, ready: make(chan struct{})}
	ss.open[k] = o
	if len(ss.open) > ss.maxOpen {
		ss.evictLocked()
	}
	ss.mu.Unlock()

	info := ss.split.Shards[k]
	s, err := ss.openFile(info.File)
	if err == nil && s.Rows() != info.Rows {
		s.Close()
		err = fmt.Errorf("open shard %s: %w: %d rows, manifest says %d", joinLoc(ss.dir, info.File), ErrCorrupt, s.Rows(), info.Rows)
	}
	ss.mu.Lock()
	o.s, o.err = s, err
	if err != nil && ss.open[k] == o {
		delete(ss.open, k) // the next reader tries again
	}
	ss.mu.Unlock()
	close(o.ready)
	if err != nil {
		ss.release(o)
		return nil, err
	}
	return o, nil
}

// evictLocked drops the least recently used shard from the open set; it
// is closed when its last reader releases it.
func (ss *ShardSet) evictLocked() {
	oldK, oldT := -1, int64(0)
	for k, o := range ss.open {
		if oldK < 0 || o.used < oldT {
			oldK, oldT = k, o.used
		}
	}
	o := ss.open[oldK]
	delete(ss.open, oldK)
	o.evicted = true
	if o.refs == 0 && o.s != nil {
		o.s.Close()
	}
}

func (ss *ShardSet) release(o *openShard) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	o.refs--
	if o.evicted && o.refs == 0 && o.s != nil {
		o.s.Close()
	}
}

// Labels returns a copy of the labels of row i.
func (ss *ShardSet) Labels(i int) ([]int32, error) {
	k, r, err := ss.locate(i)
	if err != nil {
		return nil, err
	}
	o, err := ss.acquire(k)
	if err != nil {
		return nil, err
	}
	defer ss.release(o)
	l, err := o.s.Labels(r)
	if err != nil {
		return nil, err
	}
	return append([]int32(nil), l...), nil
}

// Read returns what training reads of row i: its key, its image bytes
// appended to buf[:0], and a copy of its labels.
func (ss *ShardSet) Read(i int, buf []byte) (key string, image []byte, labels []int32, err error) {
	k, r, err := ss.locate(i)
	if err != nil {
		return "", nil, nil, err
	}
	img, fetched, err := ss.fetch.take(i, buf)
	if err != nil {
		return "", nil, nil, err
	}
	o, err := ss.acquire(k)
	if err != nil {
		return "", nil, nil, err
	}
	defer ss.release(o)
	if !fetched {
		if img, err = o.s.ReadImage(r, buf); err != nil {
			return "", nil, nil, err
		}
	}
	key, _ = o.s.Key(r)
	l, _ := o.s.Labels(r)
	return key, img, append([]int32(nil), l...), nil
}

// Where names the shard file and row of item i, for error messages.
func (ss *ShardSet) Where(i int) string {
	k, r, err := ss.locate(i)
	if err != nil {
		return fmt.Sprintf("item %d", i)
	}
	return fmt.Sprintf("shard %s row %d", ss.split.Shards[k].File, r)
}

// Close closes every open shard and drops the images fetched ahead.
func (ss *ShardSet) Close() error {
	ss.fetch.close()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var err error
	for k, o := range ss.open {
		delete(ss.open, k)
		o.evicted = true
		if o.refs == 0 && o.s != nil {
			if cerr := o.s.Close(); err == nil {
				err = cerr
			}
		}
	}
	if ss.closeDir != nil {
		if cerr := ss.closeDir(); err == nil {
			err = cerr
		}
		ss.closeDir = nil
	}
	return err
}
