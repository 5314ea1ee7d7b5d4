package demo

import (
	"flag"
	"fmt"
	"strings"
)

// RegisterFlags adds flags for the world's sizes and rates to fs, with c's
// current values as defaults (start from Default or Quick).
func (c *WorldConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the generated world")
	fs.IntVar(&c.Concepts, "concepts", c.Concepts, "WordNet concepts in the world, spread over families (0 = all 261)")
	fs.IntVar(&c.CrawlImages, "crawl-images", c.CrawlImages, "crawl records with a freshly drawn image")
	fs.IntVar(&c.ImageSize, "image-size", c.ImageSize, "long side of crawl images in pixels")
	fs.Float64Var(&c.ZipfExponent, "zipf", c.ZipfExponent, "exponent s of concept frequencies ∝ 1/rank^s")
	fs.Float64Var(&c.WrongTagRate, "wrong-tag-rate", c.WrongTagRate, "fraction of records whose main tag names a concept not shown")
	fs.Float64Var(&c.CaptionRate, "caption-rate", c.CaptionRate, "fraction of records with hashtags in a caption instead of a tag list")
	fs.IntVar(&c.TargetClasses, "target-classes", c.TargetClasses, "classes of the target task")
	fs.IntVar(&c.TargetTrain, "target-train", c.TargetTrain, "labelled target images per class")
	fs.IntVar(&c.TargetVal, "target-val", c.TargetVal, "target validation images per class")
	fs.IntVar(&c.Duplicates, "planted-duplicates", c.Duplicates, "near-duplicates of target val images planted in the crawl")
}

// Summary is a few lines describing the world, for logs and reports.
func (w *World) Summary() string {
	var b strings.Builder
	families := map[string]bool{}
	for _, c := range w.Concepts {
		families[c.Family] = true
	}
	cr := w.Crawl
	fmt.Fprintf(&b, "world %s: %d WordNet concepts in %d families (seed %d)\n", w.Dir, len(w.Concepts), len(families), w.Config.Seed)
	fmt.Fprintf(&b, "crawl: %d records (%d with captions, %d wrong-tagged, %d untagged, %d showing two concepts, %d reposts, %d planted near-duplicates)\n",
		cr.Records, cr.CaptionRecords, cr.WrongTagged, cr.Untagged, cr.CoOccurring, cr.Reposts, cr.Duplicates)
	fmt.Fprintf(&b, "target: %d classes × %d train / %d val images in %s\n",
		len(w.Target.Classes), w.Target.PerTrain, w.Target.PerVal, w.Path(w.Target.Dir))
	return b.String()
}
