package beampipe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"weaksup/shards"
	"weaksup/storage"
	"weaksup/workdir"
)

// A Beam run's working directory is a local directory that every worker
// and the launcher see at the same path (one machine, NFS, Filestore), or
// a gs:// or s3:// URL, which workers on Dataflow (or any cluster) reach
// without a mount. Every file the workers share — chunk outputs, the
// vocabulary, the dedup report, the shards — goes through package storage,
// which writes a local file atomically (temporary file, fsync, rename)
// and an object whole.

// workdirOf is the storage Dir of the working directory wd, opened once
// per worker process (created if missing; a bucket must exist) and
// endpoint: a process that runs pipelines against several services (tests)
// gets a client for each.
func workdirOf(wd string) (*storage.Dir, error) {
	key := "workdir\x00" + wd
	for _, env := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "STORAGE_EMULATOR_HOST"} {
		key += "\x00" + os.Getenv(env)
	}
	return sharedValue(key, func() (*storage.Dir, error) {
		d, err := storage.Create(context.Background(), wd, nil)
		if err != nil {
			return nil, fmt.Errorf("open working directory: %w", err)
		}
		return d, nil
	})
}

// chunkKeys are the keys of chunk i's records and images in the working
// directory.
func chunkKeys(i int) (recs, jpg string) {
	base := fmt.Sprintf("beam/chunks/chunk-%05d", i)
	return base + ".json", base + ".jpg"
}

// writeFiles lets write produce files in a local working directory (the
// stage packages write paths) and puts them in wd: a local wd is written
// in place; for a URL, write runs on a temporary directory whose files are
// then uploaded under the same relative keys.
func writeFiles(ctx context.Context, wd string, write func(local workdir.Dir) error) error {
	if !storage.IsURL(wd) {
		if err := os.MkdirAll(wd, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", wd, err)
		}
		return write(workdir.Dir(wd))
	}
	d, err := workdirOf(wd)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "weaksup-beam-")
	if err != nil {
		return fmt.Errorf("stage files for %s: %w", wd, err)
	}
	defer os.RemoveAll(tmp)
	if err := write(workdir.Dir(tmp)); err != nil {
		return err
	}
	return filepath.WalkDir(tmp, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		rel, err := filepath.Rel(tmp, path)
		if err != nil {
			return err
		}
		return d.Upload(ctx, filepath.ToSlash(rel), path)
	})
}

// launcherDir is where the launcher keeps its own files (the hashed test
// sets, reused between runs): the working directory itself when it is
// local; for a URL, a directory under the user's cache directory named
// after it.
func launcherDir(wd string) (workdir.Dir, error) {
	if !storage.IsURL(wd) {
		return workdir.Dir(wd), nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	sum := sha256.Sum256([]byte(wd))
	dir := filepath.Join(base, "weaksup", "beam-"+hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create the launcher's cache %s for --workdir %s: %w", dir, wd, err)
	}
	return workdir.Dir(dir), nil
}

// dropManifest deletes the manifest of the shard directory at URL out,
// which the job then writes anew: readers find no shard directory while
// its shards are replaced.
func dropManifest(ctx context.Context, out string) error {
	d, err := storage.Create(ctx, out, nil)
	if err != nil {
		return fmt.Errorf("flag --out: %w", err)
	}
	defer d.Close()
	if err := d.Delete(ctx, shards.ManifestName); err != nil {
		return fmt.Errorf("flag --out: %w", err)
	}
	return nil
}

// ClearChunks deletes the finished chunk outputs of the working directory
// wd (a local path or a URL), so that the next run crawls every chunk.
func ClearChunks(ctx context.Context, wd string) error {
	if !storage.IsURL(wd) {
		return os.RemoveAll(ChunkDir(wd))
	}
	d, err := storage.Open(ctx, wd, nil)
	if err != nil {
		return err
	}
	defer d.Close()
	objs, err := d.List(ctx, "beam/chunks/")
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := d.Delete(ctx, o.Key); err != nil {
			return err
		}
	}
	return nil
}
