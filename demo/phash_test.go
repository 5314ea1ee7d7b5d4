package demo

import (
	"testing"

	"weaksup/dedup"
	"weaksup/phash"
)

// TestPlantedDuplicatesHash checks the pipeline's perceptual hash sees most
// planted copies within plain pHash radius of their target
// image (or its mirror), while crops may fall outside, as real ones do.
func TestPlantedDuplicatesHash(t *testing.T) {
	w := quickWorld(t)
	within := 0
	for _, d := range w.Duplicates {
		c, err := dedup.SignFile(w.Path(ImagesDir + "/" + d.CrawlID + ".jpg"))
		if err != nil {
			t.Fatalf("hash %s: %v", d.CrawlID, err)
		}
		o, err := dedup.SignFile(w.Path(d.TargetPath))
		if err != nil {
			t.Fatalf("hash %s: %v", d.TargetPath, err)
		}
		h := c.Hashes[0] // the image's; o's first two are the target's and its mirror's
		dist := min(phash.Distance(h, o.Hashes[0]), phash.Distance(h, o.Hashes[1]))
		if dist <= dedup.PlainRadius {
			within++
		}
		if dist > 20 {
			t.Errorf("%s (%s): distance %d to %s, want a near-duplicate", d.CrawlID, d.Transform, dist, d.TargetPath)
		}
	}
	if min := len(w.Duplicates) * 6 / 10; within < min {
		t.Errorf("%d of %d planted copies within radius %d, want at least %d", within, len(w.Duplicates), dedup.PlainRadius, min)
	}
}
