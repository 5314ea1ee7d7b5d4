package dedup

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"weaksup/datasets"
)

// Listing is the configured test sets' image files, each set listed and
// each image stat'ed once. A run makes one Listing (Config.List) and takes
// both its input fingerprint and its catalog (LoadCatalog) from it, so the
// files fingerprinted are the files hashed. A Listing is read-only.
type Listing struct {
	cfg  Config // with defaults filled in
	sets []setFiles
}

// setFiles is one test set's image files before hashing.
type setFiles struct {
	spec        Spec
	layout      string // resolved (never LayoutAuto)
	root        string // folder the image paths are relative to
	images      []string
	fingerprint string // of the paths, sizes and times, with the layout and split
}

// List lists every configured test set and stats its images.
func (c Config) List() (*Listing, error) {
	c = c.normalized()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	l := &Listing{cfg: c}
	for _, s := range c.TestSets {
		f, err := listSet(s, c.Split)
		if err != nil {
			return nil, fmt.Errorf("flag --testset %s=%s: %w", s.Name, s.Path, err)
		}
		l.sets = append(l.sets, f)
	}
	return l, nil
}

// Config returns the configuration the listing was made from, with its
// defaults filled in.
func (l *Listing) Config() Config { return l.cfg }

// Fingerprint returns a fingerprint of the test sets' files: it changes
// when an image is added, removed or rewritten. It is empty without test
// sets.
func (l *Listing) Fingerprint() string {
	if len(l.sets) == 0 {
		return ""
	}
	h := sha256.New()
	for _, f := range l.sets {
		fmt.Fprintf(h, "%s=%s\n", f.spec.Name, f.fingerprint)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// listSet lists the images of a test set through its datasets.Lister
// (split, datasets.ListTest or datasets.ListAll, applies to CUB-200-2011)
// and fingerprints them.
func listSet(spec Spec, split string) (setFiles, error) {
	lister, layout, err := datasets.ListerFor(spec.Path, spec.Layout, split)
	if err != nil {
		return setFiles{}, fmt.Errorf("test set %s: %w", spec.Name, err)
	}
	root, images, err := lister.List(spec.Path)
	if err != nil {
		return setFiles{}, fmt.Errorf("test set %s: %w", spec.Name, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "dedup-testset-v1\x00%s\x00%s\x00%s\x00", fingerprintLayout(layout), split, root)
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
	return setFiles{spec: spec, layout: layout, root: root, images: images, fingerprint: hex.EncodeToString(h.Sum(nil))}, nil
}

// fingerprintLayout is the layout's name in a fingerprint: v1 fingerprints
// were defined when the image-folder layout was called "folder", and
// keeping that spelling keeps the hash caches and stage records written
// since valid.
func fingerprintLayout(layout string) string {
	if layout == datasets.ImageFolder {
		return "folder"
	}
	return layout
}

// cachePath is where a test set's hashes are cached under cacheDir.
func cachePath(cacheDir string, spec Spec, fingerprint string) string {
	return filepath.Join(cacheDir, spec.Name+"-"+fingerprint[:16]+".phash")
}
