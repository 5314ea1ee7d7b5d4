package storage

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CacheOptions tune a Cache; the zero value (or nil) means the defaults.
type CacheOptions struct {
	// BlockSize is the unit fetched, stored and evicted (default 4 MiB).
	BlockSize int64
	// ReadAhead is how many blocks past a sequential reader's position
	// are fetched in the background (default 4; negative for none). At
	// most ReadAhead fetches run at once per Cache.
	ReadAhead int
}

// Cache is a read-through cache of object bytes in a local directory,
// bounded in size: Objects of gs:// and s3:// Dirs opened with it read
// whole blocks of BlockSize from the service once, keep them as files, and
// serve later reads of those bytes from disk. When the blocks exceed the
// limit the least recently used are removed. A sequential reader's next
// blocks are fetched ahead of it.
//
// A block is named by the object's URL, size, modification time and ETag,
// so a replaced object is fetched anew. Blocks are written to a temporary
// file, fsynced and renamed, so a crash leaves none half written.
// Processes on one host may share the directory: a lock per block makes
// them fetch it once between them, and each counts the others' blocks
// against the limit when it rescans the directory (at start and after
// every quarter of the limit it adds). A Cache is safe for concurrent use.
type Cache struct {
	dir       string
	limit     int64
	block     int64
	readAhead int
	raSem     chan struct{}

	mu        sync.Mutex
	lru       *list.List // of *cacheEntry, most recent first
	entries   map[string]*list.Element
	size      int64
	sinceScan int64
	inflight  map[string]*flight

	stats cacheCounters
}

type cacheEntry struct {
	name    string
	size    int64
	refs    int       // whole-object copies in use are not evicted
	used    time.Time // last use, by this process or (from mtime) another
	touched time.Time // last time this process set the file's mtime
}

type flight struct {
	done chan struct{}
	err  error
}

type cacheCounters struct {
	hits, misses, fetched, served, evicted, readAhead atomic.Int64
}

// CacheStats count what a Cache has done.
type CacheStats struct {
	Hits         int64 // block reads served from the directory
	Misses       int64 // blocks fetched from the service
	BytesFetched int64 // bytes of those blocks
	BytesServed  int64 // bytes read from the directory
	Evictions    int64 // blocks removed to stay under the limit
	ReadAhead    int64 // blocks fetched ahead of a sequential reader
	Size         int64 // bytes in the directory, as this process counts them
}

const (
	defaultBlockSize = 4 << 20
	lockStripes      = 256
	// touchEvery is how often a block in use has its mtime set, so that
	// other processes' rescans see it as recently used.
	touchEvery = time.Minute
)

// NewCache opens (creating it if needed) a cache directory holding at most
// limit bytes of blocks.
func NewCache(dir string, limit int64, opts *CacheOptions) (*Cache, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("open cache %s: limit %d bytes is not positive", dir, limit)
	}
	c := &Cache{dir: dir, limit: limit, block: defaultBlockSize, readAhead: 4,
		lru: list.New(), entries: map[string]*list.Element{}, inflight: map[string]*flight{}}
	if opts != nil {
		if opts.BlockSize > 0 {
			c.block = opts.BlockSize
		}
		if opts.ReadAhead != 0 {
			c.readAhead = max(opts.ReadAhead, 0)
		}
	}
	c.raSem = make(chan struct{}, max(c.readAhead, 1))
	for _, sub := range []string{"blocks", "locks", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("open cache %s: %w", dir, err)
		}
	}
	c.removeStaleTemps()
	if err := c.rescan(); err != nil {
		return nil, fmt.Errorf("open cache %s: %w", dir, err)
	}
	return c, nil
}

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// Stats returns the counts so far.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	size := c.size
	c.mu.Unlock()
	return CacheStats{
		Hits: c.stats.hits.Load(), Misses: c.stats.misses.Load(),
		BytesFetched: c.stats.fetched.Load(), BytesServed: c.stats.served.Load(),
		Evictions: c.stats.evicted.Load(), ReadAhead: c.stats.readAhead.Load(), Size: size,
	}
}

// objectID names an object's version for its blocks.
func (c *Cache) objectID(o *Object) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%d\n%d\n%s\n%d", o.d.opts.Endpoint, o.URL(), o.info.Size, o.info.ModTime.UnixNano(), o.info.ETag, c.block)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func (c *Cache) blockPath(name string) string {
	return filepath.Join(c.dir, "blocks", name[:2], name)
}

// readAt fills p from the blocks covering [off, off+len(p)) of o, which
// lie inside the object.
func (c *Cache) readAt(o *Object, p []byte, off int64) error {
	id := c.objectID(o)
	for len(p) > 0 {
		b := off / c.block
		start := b * c.block
		blen := min(c.block, o.info.Size-start)
		n := int(min(int64(len(p)), start+blen-off))
		if err := c.readBlock(o, id, b, blen, p[:n], off-start); err != nil {
			return err
		}
		c.ahead(o, id, b)
		p, off = p[n:], off+int64(n)
	}
	return nil
}

func (c *Cache) readBlock(o *Object, id string, b, blen int64, dst []byte, boff int64) error {
	name := id + "-" + strconv.FormatInt(b, 10)
	if c.readFile(name, dst, boff) {
		return nil
	}
	if err := c.fill(o, name, b, blen); err != nil {
		return err
	}
	if c.readFile(name, dst, boff) {
		return nil
	}
	// Evicted already (a cache smaller than what is being read at once):
	// read past it.
	return o.d.fetch(o.ctx, o.bkey, o.URL(), dst, b*c.block+boff)
}

// readFile reads dst from block name at boff, if the block is there whole.
func (c *Cache) readFile(name string, dst []byte, boff int64) bool {
	f, err := os.Open(c.blockPath(name))
	if err != nil {
		return false
	}
	n, err := f.ReadAt(dst, boff)
	f.Close()
	if n != len(dst) {
		// A damaged block: drop it and fetch again.
		_ = err
		c.remove(name)
		return false
	}
	c.stats.hits.Add(1)
	c.stats.served.Add(int64(n))
	c.used(name)
	return true
}

// fill fetches block b of o into the directory, once however many readers
// (goroutines, or processes sharing the directory) want it.
func (c *Cache) fill(o *Object, name string, b, blen int64) error {
	return c.once(o, name, func() error { return c.fillLocked(o, name, b, blen) })
}

// once runs fetch for name unless a fetch of name is under way, in which
// case it waits for that one. A fetch that failed for its own Object's
// sake (a read-ahead whose Object was closed) is tried again for o's.
func (c *Cache) once(o *Object, name string, fetch func() error) error {
	for try := 0; ; try++ {
		c.mu.Lock()
		f, ok := c.inflight[name]
		if !ok {
			f = &flight{done: make(chan struct{})}
			c.inflight[name] = f
			c.mu.Unlock()
			f.err = fetch()
			c.mu.Lock()
			delete(c.inflight, name)
			c.mu.Unlock()
			close(f.done)
			return f.err
		}
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-o.ctx.Done():
			return &Error{Op: "read", URL: o.URL(), Err: context.Cause(o.ctx)}
		}
		if f.err == nil || try > 0 || o.ctx.Err() != nil {
			return f.err
		}
	}
}

func (c *Cache) fillLocked(o *Object, name string, b, blen int64) error {
	unlock, err := c.lock(name)
	if err != nil {
		return &Error{Op: "read", URL: o.URL(), Err: fmt.Errorf("lock cache: %w", err)}
	}
	defer unlock()
	path := c.blockPath(name)
	if st, err := os.Stat(path); err == nil && st.Size() == blen {
		c.add(name, blen, st.ModTime()) // another process fetched it
		return nil
	}
	buf := make([]byte, blen)
	if err := o.d.fetch(o.ctx, o.bkey, o.URL(), buf, b*c.block); err != nil {
		return err
	}
	c.stats.misses.Add(1)
	c.stats.fetched.Add(blen)
	if err := c.store(path, buf); err != nil {
		// A cache that cannot be written still lets the read go on:
		// readBlock fetches past it.
		return nil
	}
	c.add(name, blen, time.Now())
	return nil
}

// lock takes the file lock of name's stripe, shared with other processes.
func (c *Cache) lock(name string) (func(), error) {
	h := fnv.New32a()
	h.Write([]byte(name))
	return lockFile(filepath.Join(c.dir, "locks", strconv.Itoa(int(h.Sum32()%lockStripes))))
}

func (c *Cache) store(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Join(c.dir, "tmp"), "block-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// ahead starts fetching the blocks after b when o is read sequentially.
func (c *Cache) ahead(o *Object, id string, b int64) {
	o.mu.Lock()
	seq := b == o.last+1
	if b != o.last {
		o.last = b
	}
	o.mu.Unlock()
	if !seq || c.readAhead == 0 {
		return
	}
	for k := b + 1; k <= b+int64(c.readAhead) && k*c.block < o.info.Size; k++ {
		name := id + "-" + strconv.FormatInt(k, 10)
		c.mu.Lock()
		_, have := c.entries[name]
		_, busy := c.inflight[name]
		c.mu.Unlock()
		if have || busy {
			continue
		}
		select {
		case c.raSem <- struct{}{}:
		default:
			return // enough under way; a reader's own misses still go through
		}
		blen := min(c.block, o.info.Size-k*c.block)
		go func() {
			defer func() { <-c.raSem }()
			if c.fill(o, name, k, blen) == nil {
				c.stats.readAhead.Add(1)
			}
		}()
	}
}

func (c *Cache) add(name string, size int64, used time.Time) { c.insert(name, size, used, 0) }

// insert records a file of the directory as most recently used, with refs
// more pins, and evicts what the limit requires (never a pinned file).
func (c *Cache) insert(name string, size int64, used time.Time, refs int) {
	c.mu.Lock()
	if el, ok := c.entries[name]; ok {
		c.lru.MoveToFront(el)
		el.Value.(*cacheEntry).refs += refs
		c.mu.Unlock()
		return
	}
	c.entries[name] = c.lru.PushFront(&cacheEntry{name: name, size: size, used: used, touched: used, refs: refs})
	c.size += size
	c.sinceScan += size
	rescan := c.sinceScan > c.limit/4
	if rescan {
		c.sinceScan = 0
	}
	c.evictLocked()
	c.mu.Unlock()
	if rescan {
		c.rescan() // best effort: a failed scan leaves this process's view
	}
}

func (c *Cache) used(name string) {
	now := time.Now()
	c.mu.Lock()
	el, ok := c.entries[name]
	var touch bool
	if ok {
		c.lru.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		e.used = now
		if now.Sub(e.touched) >= touchEvery {
			e.touched, touch = now, true
		}
	}
	c.mu.Unlock()
	if !ok {
		// Another process's block: count it from now on.
		if st, err := os.Stat(c.blockPath(name)); err == nil {
			c.add(name, st.Size(), now)
		}
		return
	}
	if touch {
		os.Chtimes(c.blockPath(name), now, now)
	}
}

func (c *Cache) remove(name string) {
	c.mu.Lock()
	if el, ok := c.entries[name]; ok {
		c.lru.Remove(el)
		delete(c.entries, name)
		c.size -= el.Value.(*cacheEntry).size
	}
	c.mu.Unlock()
	os.Remove(c.blockPath(name))
}

func (c *Cache) evictLocked() {
	el := c.lru.Back()
	for c.size > c.limit && el != nil {
		e := el.Value.(*cacheEntry)
		prev := el.Prev()
		if e.refs > 0 {
			el = prev
			continue
		}
		c.lru.Remove(el)
		el = prev
		delete(c.entries, e.name)
		c.size -= e.size
		os.Remove(c.blockPath(e.name))
		c.stats.evicted.Add(1)
	}
}

// rescan rebuilds the LRU from the directory, so that blocks other
// processes added count against the limit, ordered by last use (this
// process's record, or the file's mtime).
func (c *Cache) rescan() error {
	var found []*cacheEntry
	root := filepath.Join(c.dir, "blocks")
	err := filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil // removed meanwhile
			}
			return err
		}
		if de.IsDir() {
			return nil
		}
		info, err := de.Info()
		if err != nil {
			return nil
		}
		found = append(found, &cacheEntry{name: de.Name(), size: info.Size(), used: info.ModTime(), touched: info.ModTime()})
		return nil
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range found {
		if el, ok := c.entries[e.name]; ok {
			old := el.Value.(*cacheEntry)
			e.used, e.touched, e.refs = later(old.used, e.used), old.touched, old.refs
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].used.After(found[j].used) })
	c.lru.Init()
	c.entries = make(map[string]*list.Element, len(found))
	c.size = 0
	for _, e := range found {
		c.entries[e.name] = c.lru.PushBack(e)
		c.size += e.size
	}
	c.evictLocked()
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// removeStaleTemps deletes temporary blocks that a crashed process left.
func (c *Cache) removeStaleTemps() {
	des, err := os.ReadDir(filepath.Join(c.dir, "tmp"))
	if err != nil {
		return
	}
	for _, de := range des {
		info, err := de.Info()
		if err == nil && strings.HasPrefix(de.Name(), "block-") && time.Since(info.ModTime()) > time.Hour {
			os.Remove(filepath.Join(c.dir, "tmp", de.Name()))
		}
	}
}
