package shards

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"weaksup/storage"
)

// A shard directory may be a local path or a gs:// or s3:// URL (see
// package storage). The functions that take a directory as a string open
// a URL with the storage layer's defaults, which read the endpoint and
// credentials from the environment; the ...In forms take a storage.Dir
// opened with other options (a Cache, an explicit endpoint). Local paths
// keep their direct file system code.

// joinLoc is the location of file inside dir, for a path or a URL
// (filepath.Join would fold the URL's "//").
func joinLoc(dir, file string) string {
	if storage.IsURL(dir) {
		return strings.TrimSuffix(dir, "/") + "/" + file
	}
	return filepath.Join(dir, file)
}

// splitLoc is the directory and base name of a shard's location.
func splitLoc(loc string) (dir, file string) {
	if storage.IsURL(loc) {
		i := strings.LastIndex(loc, "/")
		return loc[:i], loc[i+1:]
	}
	return filepath.Dir(loc), filepath.Base(loc)
}

// openLoc opens a shard directory URL with the storage defaults; create
// is for writing.
func openLoc(ctx context.Context, dir string, create bool) (*storage.Dir, error) {
	if create {
		return storage.Create(ctx, dir, nil)
	}
	return storage.Open(ctx, dir, nil)
}

// ReadManifestIn reads and checks the manifest of the shard directory d.
func ReadManifestIn(ctx context.Context, d *storage.Dir) (*Manifest, error) {
	data, err := d.ReadAll(ctx, ManifestName)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", d.URL(ManifestName), err)
	}
	return parseManifest(d.URL(ManifestName), data)
}

// WriteManifestIn writes m as the manifest of d, atomically. A zero
// Version is set to the one this build writes.
func WriteManifestIn(ctx context.Context, d *storage.Dir, m *Manifest) error {
	data, err := encodeManifest(m)
	if err != nil {
		return err
	}
	return d.WriteFile(ctx, ManifestName, data)
}

// OpenShardIn opens shard file name of d. A gs:// or s3:// shard is
// mapped from a local copy (the Cache's, when d has one, so that each
// shard crosses the network once per host; otherwise a temporary one),
// which is released on Close.
func OpenShardIn(ctx context.Context, d *storage.Dir, name string) (*Shard, error) {
	local, release, err := d.Local(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("open shard %s: %w", d.URL(name), err)
	}
	return openMapped(d.URL(name), local, release)
}

// OpenShardSetIn is OpenShardSet over the shard directory d; the set does
// not close d. The shards of a gs:// or s3:// directory are read in place
// rather than downloaded: their index columns when a shard is first used,
// each row's JPEG when it is read, or ahead with Prefetch. ctx bounds every
// read of the set.
func OpenShardSetIn(ctx context.Context, d *storage.Dir, split string) (*ShardSet, error) {
	m, err := ReadManifestIn(ctx, d)
	if err != nil {
		return nil, err
	}
	if d.IsLocal() {
		return newShardSet(d.String(), m, split, func(file string) (*Shard, error) {
			return OpenShardIn(ctx, d, file)
		})
	}
	ss, err := newShardSet(d.String(), m, split, nil)
	if err != nil {
		return nil, err
	}
	ss.fetch = newPrefetcher(ctx, ss)
	ss.maxOpen = maxOpenStreamed
	ss.openFile = func(file string) (*Shard, error) { return openStreamed(ss.fetch.ctx, d, file) }
	return ss, nil
}

// VerifyIn is Verify over the shard directory d: each shard is read once
// (into a local copy) for its checksum and its rows.
func VerifyIn(ctx context.Context, d *storage.Dir, w io.Writer) error {
	m, err := ReadManifestIn(ctx, d)
	if err != nil {
		return err
	}
	return verify(m, w, func(file string) (string, string, func(), error) {
		local, release, err := d.Local(ctx, file)
		return d.URL(file), local, release, err
	})
}

// CreateShardIn starts shard file name in d. The file is written locally
// (to a temporary file in os.TempDir for gs:// and s3://) and appears in d
// only when Close succeeds.
func CreateShardIn(ctx context.Context, d *storage.Dir, name string) (*ShardWriter, error) {
	if p, ok := d.LocalPath(name); ok {
		return CreateShard(p)
	}
	f, err := os.CreateTemp("", "weaksup-shard-*.arrow")
	if err != nil {
		return nil, fmt.Errorf("create shard %s: %w", d.URL(name), err)
	}
	w, err := newShardWriter(d.URL(name), f)
	if err != nil {
		return nil, err
	}
	w.commit = func(tmp string) error {
		return d.Upload(ctx, name, tmp)
	}
	return w, nil
}

// Verify, Inspect, Dump, OpenShardSet, OpenShard, ReadManifest,
// WriteManifest and CreateShard take URLs through these.

func readManifestURL(dir string) (*Manifest, error) {
	ctx := context.Background()
	d, err := openLoc(ctx, dir, false)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", joinLoc(dir, ManifestName), err)
	}
	defer d.Close()
	return ReadManifestIn(ctx, d)
}

func writeManifestURL(dir string, m *Manifest) error {
	ctx := context.Background()
	d, err := openLoc(ctx, dir, true)
	if err != nil {
		return fmt.Errorf("write manifest %s: %w", joinLoc(dir, ManifestName), err)
	}
	defer d.Close()
	return WriteManifestIn(ctx, d, m)
}

func openShardURL(loc string) (*Shard, error) {
	ctx := context.Background()
	dir, file := splitLoc(loc)
	d, err := openLoc(ctx, dir, false)
	if err != nil {
		return nil, fmt.Errorf("open shard %s: %w", loc, err)
	}
	defer d.Close() // the local copy outlives the client
	return OpenShardIn(ctx, d, file)
}

// openShardSetURL opens the directory for the life of the set.
func openShardSetURL(dir, split string) (*ShardSet, error) {
	ctx := context.Background()
	d, err := openLoc(ctx, dir, false)
	if err != nil {
		return nil, fmt.Errorf("open shard directory %s: %w", dir, err)
	}
	ss, err := OpenShardSetIn(ctx, d, split)
	if err != nil {
		d.Close()
		return nil, err
	}
	ss.closeDir = d.Close
	return ss, nil
}

func verifyURL(dir string, w io.Writer) error {
	ctx := context.Background()
	d, err := openLoc(ctx, dir, false)
	if err != nil {
		return fmt.Errorf("open shard directory %s: %w", dir, err)
	}
	defer d.Close()
	return VerifyIn(ctx, d, w)
}

func createShardURL(loc string) (*ShardWriter, error) {
	ctx := context.Background()
	dir, file := splitLoc(loc)
	d, err := openLoc(ctx, dir, true)
	if err != nil {
		return nil, fmt.Errorf("create shard %s: %w", loc, err)
	}
	w, err := CreateShardIn(ctx, d, file)
	if err != nil {
		d.Close()
		return nil, err
	}
	w.done = func() { d.Close() }
	return w, nil
}
