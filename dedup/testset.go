package dedup

import (
	"context"
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
	Layout      string // the resolved layout (never datasets.LayoutAuto)
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

// load reads the test set's signatures from cacheDir when a cache with
// the listing's fingerprint is there; otherwise it signs every listed
// image on workers goroutines and writes the cache.
func (f setFiles) load(ctx context.Context, cacheDir string, workers int, log io.Writer) (*TestSet, error) {
	ts := &TestSet{Spec: f.spec, Layout: f.layout, Root: f.root, Fingerprint: f.fingerprint}
	cache := cachePath(cacheDir, f.spec, f.fingerprint)
	if err := ts.readCacheFile(cache); err == nil {
		return ts, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(log, "dedup: ignoring cached hashes of %s: %v\n", f.spec.Name, err)
	}
	if err := ts.hash(ctx, f.images, workers, log); err != nil {
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
