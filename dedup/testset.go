package dedup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	_ "weaksup/datasets" // registers a decoder for every image format a layout lists
	"weaksup/progress"
)

// TestSet is an evaluation test set with the signature of every image
// (the perceptual hash of each view and a reference thumbnail).
type TestSet struct {
	Spec        Spec
	Format      string // the resolved format
	Root        string // folder the image paths are relative to
	Fingerprint string // of the listed files' paths, sizes and times
	Images      []string
	Hashes      []uint64    // of Images[i]
	Mirrors     []uint64    // of the mirror of Images[i]
	Sigs        []Signature // of Images[i]; nil for a set built from hashes alone
	Unreadable  []Unreadable
}

// Unreadable is a test image that could not be decoded; it cannot be
// matched, so the stage reports how many there are.
type Unreadable struct {
	Path string
	Err  string
}

// listing is a test set's files before hashing.
type listing struct {
	format, root string
	images       []string
	fingerprint  string
}

func list(spec Spec, split string) (listing, error) {
	format, root, images, err := listImages(spec, split)
	if err != nil {
		return listing{}, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "dedup-testset-v1\x00%s\x00%s\x00%s\x00", format, split, root)
	for _, rel := range images {
		fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			// A listed image that is missing is reported when hashing;
			// it still changes the fingerprint.
			fmt.Fprintf(h, "%s\x00missing\x00", rel)
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00", rel, fi.Size(), fi.ModTime().UnixNano())
	}
	return listing{format: format, root: root, images: images, fingerprint: hex.EncodeToString(h.Sum(nil))}, nil
}

// SpecFingerprint returns the fingerprint of a test set's files (paths,
// sizes and modification times of every listed image, with the format and
// split): it changes whenever the test set would hash differently.
func SpecFingerprint(spec Spec, split string) (string, error) {
	l, err := list(spec, split)
	return l.fingerprint, err
}

// cachePath is where a test set's hashes are cached under cacheDir.
func cachePath(cacheDir string, spec Spec, fingerprint string) string {
	return filepath.Join(cacheDir, spec.Name+"-"+fingerprint[:16]+".phash")
}

// LoadTestSet lists a test set, and reads its hashes from cacheDir when a
// cache with the same fingerprint is there; otherwise it hashes every image
// (and its mirror) on workers goroutines and writes the cache.
func LoadTestSet(ctx context.Context, spec Spec, split, cacheDir string, workers int, log io.Writer) (*TestSet, error) {
	l, err := list(spec, split)
	if err != nil {
		return nil, err
	}
	ts := &TestSet{Spec: spec, Format: l.format, Root: l.root, Fingerprint: l.fingerprint}
	cache := cachePath(cacheDir, spec, l.fingerprint)
	if err := ts.readCacheFile(cache); err == nil {
		return ts, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(log, "dedup: ignoring cached hashes of %s: %v\n", spec.Name, err)
	}
	if err := ts.hash(ctx, l.images, workers, log); err != nil {
		return nil, err
	}
	if err := ts.writeCacheFile(cache); err != nil {
		return nil, err
	}
	return ts, nil
}

// hash computes the hashes of images (relative to ts.Root).
func (ts *TestSet) hash(ctx context.Context, images []string, workers int, log io.Writer) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type result struct {
		sig Signature
		err error
	}
	results := make([]result, len(images))
	bar := progress.New(log, int64(len(images)), "dedup: hash "+ts.Spec.Name)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				sig, err := SignFile(filepath.Join(ts.Root, filepath.FromSlash(images[i])))
				results[i] = result{sig, err}
				if err != nil {
					bar.Inc("unreadable")
				}
				bar.Add(1)
			}
		}()
	}
feed:
	for i := range images {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	bar.Finish()
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, r := range results {
		if r.err != nil {
			ts.Unreadable = append(ts.Unreadable, Unreadable{Path: images[i], Err: r.err.Error()})
			continue
		}
		ts.Images = append(ts.Images, images[i])
		ts.Hashes = append(ts.Hashes, r.sig.Hashes[0])
		ts.Mirrors = append(ts.Mirrors, r.sig.Hashes[1])
		ts.Sigs = append(ts.Sigs, r.sig)
	}
	return nil
}

// HashFile decodes an image file and returns the perceptual hash of the
// image and of its mirror.
func HashFile(path string) (hash, mirror uint64, err error) {
	sig, err := SignFile(path)
	if err != nil {
		return 0, 0, err
	}
	return sig.Hashes[0], sig.Hashes[1], nil
}

// SignFile decodes an image file and returns its signature.
func SignFile(path string) (Signature, error) {
	f, err := os.Open(path)
	if err != nil {
		return Signature{}, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return Signature{}, fmt.Errorf("decode %s: %w", path, err)
	}
	sig, err := Sign(img)
	if err != nil {
		return Signature{}, fmt.Errorf("hash %s: %w", path, err)
	}
	return sig, nil
}
