package dedup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"strings"

	"weaksup/datasets"
	"weaksup/workdir"
)

// DefaultRadius is the Hamming radius within which a crawled image counts
// as a copy of a test image. Perceptual hashes of photographs have 32 bits
// set (the median split), so distances are even and radius 6 also covers 7.
// On the near-duplicate benchmark (312 test images from Debian photographs,
// 14 transformations, 11,050 negatives) radius 6 finds 87% of the copies
// (over 97% of resized, re-encoded, mirrored and contrast-changed ones) with
// 2.9e-7 false matches per pair; radius 8 finds 90% but triples the pair
// rate, which against an ImageNet-val-sized index (100k hashes with
// mirrors) would drop about 10% of a crawl instead of 3%.
const DefaultRadius = 6

// Config configures the dedup stage and `weaksup dedup check`.
type Config struct {
	TestSets []Spec `json:"testsets"`
	// Split selects the CUB-200-2011 images: "test" or "all".
	Split string `json:"split"`
	// Radius is the Hamming radius within which an image is a copy.
	Radius int `json:"radius"`
	// KeepRepeats keeps exact repeats (same SHA-256 of the source bytes)
	// instead of dropping all but the first.
	KeepRepeats bool `json:"keep_repeats"`
	// Workers hash test images and search in parallel; 0 uses every core. It does
	// not change results, so it is not part of the stage record.
	Workers int `json:"-"`
}

// DefaultConfig returns the configuration the flags default to.
func DefaultConfig() Config { return Config{Split: "test", Radius: DefaultRadius} }

// specList is the repeatable --testset flag.
type specList struct{ specs *[]Spec }

func (l specList) String() string {
	if l.specs == nil {
		return ""
	}
	parts := make([]string, len(*l.specs))
	for i, s := range *l.specs {
		parts[i] = s.String()
	}
	return strings.Join(parts, ",")
}

func (l specList) Set(v string) error {
	s, err := ParseSpec(v)
	if err != nil {
		return err
	}
	for _, o := range *l.specs {
		if o.Name == s.Name {
			return fmt.Errorf("test set name %q given twice", s.Name)
		}
	}
	*l.specs = append(*l.specs, s)
	return nil
}

// RegisterFlags registers the dedup flags on fs with their defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	if c.Split == "" && c.Radius == 0 {
		*c = DefaultConfig()
	}
	fs.Var(specList{&c.TestSets}, "testset",
		"evaluation test set NAME=PATH[:FORMAT], repeatable; FORMAT is "+strings.Join(datasets.Formats, ", ")+
			" (auto: a file is a Places365 list, a folder with images.txt is CUB-200-2011, any other folder is searched for images)")
	fs.StringVar(&c.Split, "split", c.Split, "CUB-200-2011 images to keep out of training: test or all")
	fs.IntVar(&c.Radius, "radius", c.Radius, "Hamming radius (0-64) within which a crawled image counts as a copy of a test image")
	fs.BoolVar(&c.KeepRepeats, "keep-repeats", c.KeepRepeats, "keep exact repeats (same SHA-256) instead of keeping only the first")
	fs.IntVar(&c.Workers, "hash-workers", c.Workers, "goroutines hashing test images and searching record hashes (0: one per core)")
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Radius < 0 || c.Radius > 64 {
		return fmt.Errorf("flag --radius %d: want 0..64", c.Radius)
	}
	if c.Split != "test" && c.Split != "all" {
		return fmt.Errorf("flag --split %q: want test or all", c.Split)
	}
	return nil
}

// Fingerprint returns a fingerprint of the test sets' files: it changes
// when an image is added, removed or rewritten.
func (c Config) Fingerprint() (string, error) {
	if len(c.TestSets) == 0 {
		return "", nil
	}
	h := sha256.New()
	for _, s := range c.TestSets {
		fp, err := SpecFingerprint(s, c.Split)
		if err != nil {
			return "", fmt.Errorf("flag --testset %s=%s: %w", s.Name, s.Path, err)
		}
		fmt.Fprintf(h, "%s=%s\n", s.Name, fp)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// LoadCatalog loads (or hashes and caches under the working directory's
// testsets folder) every configured test set and indexes them together.
func LoadCatalog(ctx context.Context, wd workdir.Dir, cfg Config, log io.Writer) (*Catalog, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var sets []*TestSet
	for _, s := range cfg.TestSets {
		ts, err := LoadTestSet(ctx, s, cfg.Split, wd.TestSets(), cfg.Workers, log)
		if err != nil {
			return nil, fmt.Errorf("flag --testset %s=%s: %w", s.Name, s.Path, err)
		}
		if len(ts.Unreadable) > 0 {
			fmt.Fprintf(log, "dedup: %s: %d of %d images could not be decoded and cannot be matched (first: %s)\n",
				s.Name, len(ts.Unreadable), len(ts.Unreadable)+len(ts.Images), ts.Unreadable[0].Err)
		}
		sets = append(sets, ts)
	}
	return NewCatalog(sets, cfg.Radius), nil
}
