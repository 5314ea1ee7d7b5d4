package storage

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// copyChunk is the size of the ranged reads that copy a whole object.
const copyChunk = 8 << 20

// Local returns a local file holding key's bytes, for readers that map
// files (Arrow shards) or hand them to other programs, and a release
// function to call when done with it. For a local Dir it is the file
// itself. For gs:// and s3:// with a Cache it is the cache's copy of the
// whole object, fetched once per host and kept from eviction until
// released; without a Cache it is a temporary copy in Options.SpoolDir
// that release removes. The copy is made with the retries and checks of
// Object.ReadAt. errors.Is(err, fs.ErrNotExist) when key is missing.
func (d *Dir) Local(ctx context.Context, key string) (string, func(), error) {
	if d.loc.Scheme == Local {
		p, _ := d.LocalPath(key)
		if err := checkKey(key); err != nil {
			return "", nil, &Error{Op: "read", URL: d.URL(key), Err: err}
		}
		st, err := os.Stat(p)
		if err == nil && st.IsDir() {
			err = fmt.Errorf("is a directory: %w", fs.ErrNotExist)
		}
		if err != nil {
			return "", nil, &Error{Op: "read", URL: p, Err: err}
		}
		return p, func() {}, nil
	}
	o, err := d.Open(ctx, key)
	if err != nil {
		return "", nil, err
	}
	defer o.Close()
	if d.cache != nil {
		return d.cache.file(o)
	}
	f, err := os.CreateTemp(d.opts.SpoolDir, "weaksup-copy-*")
	if err != nil {
		return "", nil, &Error{Op: "read", URL: o.URL(), Err: fmt.Errorf("make a local copy: %w", err)}
	}
	if err := d.copyTo(o, f); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", nil, err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", nil, &Error{Op: "read", URL: o.URL(), Err: fmt.Errorf("make a local copy: %w", err)}
	}
	return f.Name(), func() { os.Remove(f.Name()) }, nil
}

// copyTo writes the whole of o to f in ranged reads.
func (d *Dir) copyTo(o *Object, f *os.File) error {
	buf := make([]byte, min(copyChunk, max(o.info.Size, 1)))
	for off := int64(0); off < o.info.Size; {
		n := min(int64(len(buf)), o.info.Size-off)
		if err := d.fetch(o.ctx, o.bkey, o.URL(), buf[:n], off); err != nil {
			return err
		}
		if _, err := f.Write(buf[:n]); err != nil {
			return &Error{Op: "read", URL: o.URL(), Err: fmt.Errorf("make a local copy: %w", err)}
		}
		off += n
	}
	return nil
}

// file returns the cache's whole copy of o, fetching it if needed, pinned
// until the returned function is called.
func (c *Cache) file(o *Object) (string, func(), error) {
	name := c.objectID(o) + "-all"
	path := c.blockPath(name)
	// Another process sharing the directory may evict the copy between
	// the fetch and the pin (its rescans do not see this process's pins).
	fetched := false
	for range 5 {
		if st, err := os.Stat(path); err == nil && st.Size() == o.info.Size {
			c.insert(name, st.Size(), time.Now(), 1)
			if _, err := os.Stat(path); err == nil {
				if !fetched {
					c.stats.hits.Add(1)
					c.stats.served.Add(o.info.Size)
				}
				return path, func() { c.unpin(name) }, nil
			}
			c.unpin(name)
			continue
		}
		if err := c.fillFile(o, name); err != nil {
			return "", nil, err
		}
		fetched = true
	}
	return "", nil, &Error{Op: "read", URL: o.URL(), Err: fmt.Errorf("the cache in %s lost its copy 5 times: other processes evict it (is the cache too small?)", c.dir)}
}

func (c *Cache) unpin(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[name]; ok {
		if e := el.Value.(*cacheEntry); e.refs > 0 {
			e.refs--
		}
		c.evictLocked()
	}
}

// fillFile fetches the whole of o into the directory once, as fill does
// for a block.
func (c *Cache) fillFile(o *Object, name string) error {
	return c.once(o, name, func() error {
		unlock, err := c.lock(name)
		if err != nil {
			return &Error{Op: "read", URL: o.URL(), Err: fmt.Errorf("lock cache: %w", err)}
		}
		defer unlock()
		path := c.blockPath(name)
		if st, err := os.Stat(path); err == nil && st.Size() == o.info.Size {
			return nil // another process fetched it
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return &Error{Op: "read", URL: o.URL(), Err: fmt.Errorf("cache: %w", err)}
		}
		f, err := os.CreateTemp(filepath.Join(c.dir, "tmp"), "block-*")
		if err != nil {
			return &Error{Op: "read", URL: o.URL(), Err: fmt.Errorf("cache: %w", err)}
		}
		err = o.d.copyTo(o, f)
		if err == nil {
			if err = f.Sync(); err != nil {
				err = &Error{Op: "read", URL: o.URL(), Err: fmt.Errorf("cache: %w", err)}
			}
		}
		if cerr := f.Close(); err == nil && cerr != nil {
			err = &Error{Op: "read", URL: o.URL(), Err: fmt.Errorf("cache: %w", cerr)}
		}
		if err == nil {
			if rerr := os.Rename(f.Name(), path); rerr != nil {
				err = &Error{Op: "read", URL: o.URL(), Err: fmt.Errorf("cache: %w", rerr)}
			}
		}
		if err != nil {
			os.Remove(f.Name())
			return err
		}
		c.stats.misses.Add(1)
		c.stats.fetched.Add(o.info.Size)
		return nil
	})
}

// Upload copies the local file at path to key, atomically, with the
// retries of Writer.Close. A Writer spools to a local file first; Upload
// sends a file that exists already (a shard written locally) without a
// second copy.
func (d *Dir) Upload(ctx context.Context, key, path string) error {
	k, err := d.key(key)
	if err != nil {
		return &Error{Op: "write", URL: d.URL(key), Err: err}
	}
	f, err := os.Open(path)
	if err != nil {
		return &Error{Op: "write", URL: d.URL(key), Err: err}
	}
	defer f.Close()
	if d.loc.Scheme == Local {
		w, err := d.Create(ctx, key)
		if err != nil {
			return err
		}
		if _, err := w.ReadFrom(f); err != nil {
			w.Abort()
			return err
		}
		return w.Close()
	}
	return d.upload(ctx, k, d.URL(key), f)
}
