package dedup

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"weaksup/datasets"
	"weaksup/workdir"
)

// PlainRadius is the Hamming radius of plain perceptual-hash matching (the
// image and its mirror, no verification), which the stage falls back to
// for a record stored without a thumbnail whose image cannot be decoded.
// On the near-duplicate benchmark it finds 87% of copies but few crops.
const PlainRadius = 6

// DefaultRadius is the Hamming radius of the candidate search: a crawled
// image whose perceptual hash lies within it of some view of a test image
// is a candidate, which the verification then decides. Perceptual hashes
// of photographs have 32 bits set (the median split), so distances are
// even and radius 10 also covers 11.
//
// The three defaults come from the near-duplicate benchmark (BENCHMARKS.md:
// 1,248 test images cut from 26 Debian photographs, 14 transformations,
// 44,200 negatives, 53M cross-photograph pairs). Radius 10, score 0.85 and
// chroma 8 find 98.6% of copies (94% of 10% crops, 99.8% of 2° rotations)
// with 3 false pairs, a projected 0.28% of a crawl dropped against
// ImageNet val (50k test images); plain pHash at radius 6 finds 87% and
// drops 6.8%. Radius 8 loses crops (88%), radius 12 triples the
// candidates and the false pairs; chroma 6 has no false pair but finds 83%
// of images darkened by 20% (highlights and shadows clip, colours shift).
const DefaultRadius = 10

// DefaultMinScore is the lowest verification score (the correlation of the
// band-passed thumbnails of the candidate and of the view) at which a
// candidate counts as a copy.
const DefaultMinScore = 0.85

// DefaultMaxChroma is the largest chroma distance (RMS Cb/Cr levels after
// the best gain) at which a candidate counts as a copy.
const DefaultMaxChroma = 8.0

// DefaultSplit is the split of CUB-200-2011 kept out of training when
// Config.Split is empty.
const DefaultSplit = datasets.ListTest

// Config configures the dedup stage and `weaksup dedup check`.
type Config struct {
	TestSets []Spec `json:"testsets"`
	// Split selects the CUB-200-2011 images: datasets.ListTest or
	// datasets.ListAll; empty means DefaultSplit.
	Split string `json:"split"`
	// Radius is the Hamming radius of the candidate search.
	Radius int `json:"radius"`
	// MinScore is the verification score a candidate needs to count as a
	// copy; -1 accepts every candidate (plain perceptual-hash matching).
	MinScore float64 `json:"min_score"`
	// MaxChroma is the largest chroma distance a copy may have.
	MaxChroma float64 `json:"max_chroma"`
	// KeepRepeats keeps exact repeats (same SHA-256 of the source bytes)
	// instead of dropping all but the first.
	KeepRepeats bool `json:"keep_repeats"`
	// Workers hash test images and search in parallel; 0 uses every core. It does
	// not change results, so it is not part of the stage record.
	Workers int `json:"-"`
}

// DefaultConfig returns the configuration the flags default to.
func DefaultConfig() Config {
	return Config{Split: DefaultSplit, Radius: DefaultRadius, MinScore: DefaultMinScore, MaxChroma: DefaultMaxChroma}
}

// normalized fills in the defaults of fields a Config written before they
// existed, or built in code, leaves empty.
func (c Config) normalized() Config {
	if c.Split == "" {
		c.Split = DefaultSplit
	}
	return c
}

// specList is the repeatable --testset flag. A layout given in its former
// spelling gets a note on the flag set's output.
type specList struct {
	specs *[]Spec
	fs    *flag.FlagSet
}

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
	s, former, err := parseSpec(v)
	if err != nil {
		return err
	}
	if former != "" {
		fmt.Fprintf(l.fs.Output(), "note: --testset %s: layout %q is now called %q, the name --task uses; the old name still works\n", v, former, s.Layout)
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
	fs.Var(specList{&c.TestSets, fs}, "testset",
		"evaluation test set NAME=PATH[:LAYOUT], repeatable; LAYOUT is "+datasets.LayoutAuto+", "+strings.Join(datasets.ListedLayouts(), ", ")+
			" ("+datasets.LayoutAuto+": a file is a Places365 list, a folder with images.txt is CUB-200-2011, any other folder is an "+datasets.ImageFolder+", searched for images)")
	fs.StringVar(&c.Split, "split", c.Split, "CUB-200-2011 images to keep out of training: test or all")
	fs.IntVar(&c.Radius, "radius", c.Radius, "Hamming radius (0-64) of the candidate search: a crawled image this near to a view of a test image is verified")
	fs.Float64Var(&c.MinScore, "min-score", c.MinScore, "verification score (-1..1, the correlation of the thumbnails) a candidate needs to count as a copy; -1 accepts every candidate")
	fs.Float64Var(&c.MaxChroma, "max-chroma", c.MaxChroma, "largest chroma distance (RMS Cb/Cr levels) a copy may have")
	fs.BoolVar(&c.KeepRepeats, "keep-repeats", c.KeepRepeats, "keep exact repeats (same SHA-256) instead of keeping only the first")
	fs.IntVar(&c.Workers, "hash-workers", c.Workers, "goroutines hashing test images and searching record hashes (0: one per core)")
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.Radius < 0 || c.Radius > 64 {
		return fmt.Errorf("flag --radius %d: want 0..64", c.Radius)
	}
	if c.MinScore < -1 || c.MinScore > 1 {
		return fmt.Errorf("flag --min-score %g: want -1..1", c.MinScore)
	}
	if c.MaxChroma < 0 {
		return fmt.Errorf("flag --max-chroma %g: want >= 0", c.MaxChroma)
	}
	if c.Split != datasets.ListTest && c.Split != datasets.ListAll {
		return fmt.Errorf("flag --split %q: want %s or %s", c.Split, datasets.ListTest, datasets.ListAll)
	}
	return nil
}

// LoadCatalog loads (or signs and caches under the working directory's
// testsets folder) every listed test set and indexes them together.
func LoadCatalog(ctx context.Context, wd workdir.Dir, l *Listing, log io.Writer) (*Catalog, error) {
	cfg := l.Config()
	var sets []*TestSet
	for _, f := range l.sets {
		ts, err := f.load(ctx, wd.TestSets(), cfg.Workers, log)
		if err != nil {
			return nil, fmt.Errorf("flag --testset %s=%s: %w", f.spec.Name, f.spec.Path, err)
		}
		if len(ts.Unreadable) > 0 {
			fmt.Fprintf(log, "dedup: %s: %d of %d images could not be decoded and cannot be matched (first: %s)\n",
				f.spec.Name, len(ts.Unreadable), len(ts.Unreadable)+len(ts.Images), ts.Unreadable[0].Err)
		}
		sets = append(sets, ts)
	}
	return NewCatalog(sets, cfg.Radius), nil
}
