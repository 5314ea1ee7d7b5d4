package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"weaksup/atomicfile"
)

// ManifestVersion is the format version of world.json.
const ManifestVersion = 1

// File names inside a world directory.
const (
	ManifestFile   = "world.json"
	CrawlFile      = "crawl.jsonl"
	TruthFile      = "truth.jsonl"
	DuplicatesFile = "duplicates.jsonl"
	ImagesDir      = "images"
	TargetDir      = "target"
)

// WorldConfig sizes and seeds a generated world. The zero value is not
// useful; start from Quick or Default.
type WorldConfig struct {
	Seed         uint64  `json:"seed"`
	Concepts     int     `json:"concepts"`      // concepts drawn from the embedded table, spread over families; 0 = all
	CrawlImages  int     `json:"crawl_images"`  // crawl records with a freshly drawn image
	ImageSize    int     `json:"image_size"`    // long side of crawl images, px
	ZipfExponent float64 `json:"zipf_exponent"` // concept frequency ∝ 1/rank^s
	CaptionRate  float64 `json:"caption_rate"`  // records that carry a caption instead of a tag list
	WrongTagRate float64 `json:"wrong_tag_rate"`
	CoOccurRate  float64 `json:"co_occur_rate"` // images that also show (and tag) a second concept
	UntaggedRate float64 `json:"untagged_rate"` // records with only non-visual tags
	RepostRate   float64 `json:"repost_rate"`   // extra records repeating an earlier image byte for byte

	TargetClasses int `json:"target_classes"`
	TargetTrain   int `json:"target_train"` // labelled images per class
	TargetVal     int `json:"target_val"`   // per class
	TargetSize    int `json:"target_size"`  // px, square
	Duplicates    int `json:"duplicates"`   // near-duplicates of target val images planted in the crawl

	// BaseURL, when set, makes Generate write crawl.jsonl with image URLs
	// under it; otherwise call World.WriteCrawl once the server runs.
	BaseURL string `json:"base_url,omitempty"`
}

// Quick is a tiny world for tests and `weaksup demo --quick`: 20 concepts,
// about 600 crawl images, a 5-class target task with 10 images per class.
func Quick() WorldConfig {
	return WorldConfig{
		Seed: 1, Concepts: 20, CrawlImages: 600, ImageSize: 64, ZipfExponent: 0.9,
		CaptionRate: 0.2, WrongTagRate: 0.1, CoOccurRate: 0.1, UntaggedRate: 0.05, RepostRate: 0.01,
		TargetClasses: 5, TargetTrain: 10, TargetVal: 10, TargetSize: 64, Duplicates: 10,
	}
}

// Default is the world of `weaksup demo`: every embedded concept (261),
// 30,000 crawl images, a 30-class fine-grained target task (whole families
// of siblings) with 20 labelled images per class and 20 for validation.
func Default() WorldConfig {
	c := Quick()
	c.Concepts = 0
	c.CrawlImages = 30000
	c.TargetClasses = 30
	c.TargetTrain = 20
	c.TargetVal = 20
	c.Duplicates = 100
	return c
}

// Validate reports a configuration that cannot make a world.
func (c WorldConfig) Validate() error {
	switch {
	case c.Concepts < 0:
		return fmt.Errorf("concepts %d: must not be negative", c.Concepts)
	case c.CrawlImages < 1:
		return fmt.Errorf("crawl images %d: need at least 1", c.CrawlImages)
	case c.ImageSize < 16 || c.ImageSize > 1024:
		return fmt.Errorf("image size %d: want 16..1024", c.ImageSize)
	case c.TargetSize < 16 || c.TargetSize > 1024:
		return fmt.Errorf("target size %d: want 16..1024", c.TargetSize)
	case c.ZipfExponent < 0:
		return fmt.Errorf("zipf exponent %g: must not be negative", c.ZipfExponent)
	case c.TargetClasses < 1 || c.TargetTrain < 1 || c.TargetVal < 1:
		return fmt.Errorf("target task %d classes × %d train / %d val: each must be at least 1", c.TargetClasses, c.TargetTrain, c.TargetVal)
	case c.Duplicates < 0 || c.Duplicates > c.TargetClasses*c.TargetVal:
		return fmt.Errorf("duplicates %d: want 0..%d (target val images)", c.Duplicates, c.TargetClasses*c.TargetVal)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"caption rate", c.CaptionRate}, {"wrong tag rate", c.WrongTagRate}, {"co-occur rate", c.CoOccurRate},
		{"untagged rate", c.UntaggedRate}, {"repost rate", c.RepostRate}} {
		if r.v < 0 || r.v > 1 {
			return fmt.Errorf("%s %g: want 0..1", r.name, r.v)
		}
	}
	return nil
}

// Concept is one WordNet synset of the world.
type Concept struct {
	WNID      string       `json:"wnid"`
	Name      string       `json:"name"`
	Family    string       `json:"family"`    // lemma of the subtree root ("dog")
	Lemmas    []string     `json:"lemmas"`    // WordNet spelling
	Hypernyms []string     `json:"hypernyms"` // wnids, family root first, direct hypernym last
	Gloss     string       `json:"gloss"`
	Rank      int          `json:"rank"`      // 1 = most frequent in the crawl
	TagForms  []TagForm    `json:"tag_forms"` // hashtags the crawl uses for it
	Images    int          `json:"images"`    // crawl images that show it
	Tagged    int          `json:"tagged"`    // crawl records tagged with it (right or wrong)
	Style     StyleSummary `json:"style"`
}

// CrawlSummary counts what the crawl holds.
type CrawlSummary struct {
	Records        int `json:"records"`
	CaptionRecords int `json:"caption_records"`
	WrongTagged    int `json:"wrong_tagged"`
	Untagged       int `json:"untagged"`
	CoOccurring    int `json:"co_occurring"`
	Reposts        int `json:"reposts"`
	Duplicates     int `json:"duplicates"` // planted near-duplicates of target val images
}

// TargetTask describes the ImageNet-layout target task.
type TargetTask struct {
	Dir      string   `json:"dir"`   // relative to the world directory
	Train    string   `json:"train"` // Dir/train/<wnid>/*.JPEG
	Val      string   `json:"val"`
	Classes  []string `json:"classes"` // wnids
	PerTrain int      `json:"train_per_class"`
	PerVal   int      `json:"val_per_class"`
}

// Duplicate is one planted near-duplicate: a crawl record whose image is a
// transformed copy of a target val image.
type Duplicate struct {
	CrawlID    string `json:"crawl_id"`
	TargetPath string `json:"target_path"` // relative to the world directory
	Transform  string `json:"transform"`   // "mirror", "crop+resize", ...
}

// World is a generated world and its manifest (world.json). Paths in it are
// relative to Dir.
type World struct {
	Version    int          `json:"version"`
	Dir        string       `json:"-"`
	Config     WorldConfig  `json:"config"`
	Concepts   []Concept    `json:"concepts"`
	Crawl      CrawlSummary `json:"crawl"`
	Target     TargetTask   `json:"target"`
	Duplicates []Duplicate  `json:"duplicates"`
	Files      struct {
		Crawl      string `json:"crawl"`
		Truth      string `json:"truth"`
		Duplicates string `json:"duplicates"`
		Images     string `json:"images"`
	} `json:"files"`
}

// Path joins a manifest path onto the world directory.
func (w *World) Path(rel string) string { return filepath.Join(w.Dir, rel) }

// Concept returns the concept with a wnid.
func (w *World) Concept(wnid string) (Concept, bool) {
	for _, c := range w.Concepts {
		if c.WNID == wnid {
			return c, true
		}
	}
	return Concept{}, false
}

// ErrNoWorld is returned by Load when the directory holds no manifest.
var ErrNoWorld = errors.New("no generated world")

// Load reads the manifest of a world generated earlier into dir.
func Load(dir string) (*World, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("load world %s: %w", dir, ErrNoWorld)
	}
	if err != nil {
		return nil, fmt.Errorf("load world: %w", err)
	}
	var w World
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	if w.Version != ManifestVersion {
		return nil, fmt.Errorf("load world %s: manifest version %d, want %d", dir, w.Version, ManifestVersion)
	}
	w.Dir = dir
	return &w, nil
}

// writeManifest writes world.json atomically.
func (w *World) writeManifest() error {
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	return atomicfile.WriteFile(w.Path(ManifestFile), append(b, '\n'))
}
