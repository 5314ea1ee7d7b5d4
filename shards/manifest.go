package shards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"weaksup/atomicfile"
	"weaksup/storage"
)

// ManifestName is the manifest file inside a shard directory.
const ManifestName = "manifest.json"

// manifestVersion is bumped when the manifest or shard layout changes.
const manifestVersion = 1

// Split names.
const (
	SplitTrain = "train"
	SplitVal   = "val"
)

// Manifest describes a shard directory: which files make up each split,
// their checksums, the tag frequencies and what made them.
type Manifest struct {
	Version    int               `json:"version"`
	Created    time.Time         `json:"created"`
	Config     Config            `json:"config"`
	VocabHash  string            `json:"vocab_hash"`
	NumClasses int               `json:"num_classes"`
	Tags       []string          `json:"tags"` // canonical tag of each vocabulary id
	Splits     map[string]*Split `json:"splits"`
}

// Split is one set of shards (training or held-out).
type Split struct {
	Rows      int         `json:"rows"`
	Bytes     int64       `json:"bytes"`
	Shards    []ShardInfo `json:"shards"`
	TagCounts []int64     `json:"tag_counts"` // images carrying each vocabulary id
}

// Blocks is the number of rows of each shard of the split, in order.
func (s *Split) Blocks() []int {
	b := make([]int, len(s.Shards))
	for i, sh := range s.Shards {
		b[i] = sh.Rows
	}
	return b
}

// ReadManifest reads and checks dir/manifest.json; dir may be a gs:// or
// s3:// URL.
func ReadManifest(dir string) (*Manifest, error) {
	if storage.IsURL(dir) {
		return readManifestURL(dir)
	}
	path := filepath.Join(dir, ManifestName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	}
	return parseManifest(path, data)
}

// parseManifest decodes and checks the manifest read from path.
func parseManifest(path string, data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w: %w", path, ErrManifest, err)
	}
	if m.Version != manifestVersion {
		return nil, fmt.Errorf("read manifest %s: %w: version %d, this build reads %d", path, ErrManifest, m.Version, manifestVersion)
	}
	for name, s := range m.Splits {
		if s == nil {
			return nil, fmt.Errorf("read manifest %s: %w: split %q is null", path, ErrManifest, name)
		}
		if len(s.TagCounts) != m.NumClasses {
			return nil, fmt.Errorf("read manifest %s: %w: split %q has %d tag counts for %d classes", path, ErrManifest, name, len(s.TagCounts), m.NumClasses)
		}
		rows := 0
		for _, sh := range s.Shards {
			if sh.File != filepath.Base(sh.File) || sh.File == "" || sh.Rows < 0 {
				return nil, fmt.Errorf("read manifest %s: %w: bad shard entry %q", path, ErrManifest, sh.File)
			}
			rows += sh.Rows
		}
		if rows != s.Rows {
			return nil, fmt.Errorf("read manifest %s: %w: split %q lists %d rows but its shards hold %d", path, ErrManifest, name, s.Rows, rows)
		}
	}
	return &m, nil
}

// Split returns the named split or an error naming the directory.
func (m *Manifest) Split(dir, name string) (*Split, error) {
	s, ok := m.Splits[name]
	if !ok {
		return nil, fmt.Errorf("open split %q in %s: %w: no such split", name, dir, ErrManifest)
	}
	return s, nil
}

// WriteManifest writes m to dir/manifest.json through a synced temporary
// file and a rename (for a gs:// or s3:// dir, an upload that commits
// whole). A zero Version is set to the one this build writes.
func WriteManifest(dir string, m *Manifest) error {
	if storage.IsURL(dir) {
		return writeManifestURL(dir, m)
	}
	data, err := encodeManifest(m)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, ManifestName), data)
}

func encodeManifest(m *Manifest) ([]byte, error) {
	if m.Version == 0 {
		m.Version = manifestVersion
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(data, '\n'), nil
}
