package dedup

import (
	"fmt"
	"image"
	"os"

	"weaksup/phash"
)

// CheckResult is the nearest test images to one image.
type CheckResult struct {
	Path      string  `json:"path"`
	Hash      uint64  `json:"phash"`
	Nearest   []Match `json:"nearest"`
	Duplicate bool    `json:"duplicate"` // the nearest is within the radius
}

// CheckFile decodes an image file, hashes it and returns the top test
// images nearest to it; the image is a duplicate when the nearest lies
// within radius (the mirrors of test images are indexed, so a mirrored
// copy is found too).
func CheckFile(cat *Catalog, path string, top, radius int) (CheckResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return CheckResult{}, fmt.Errorf("check image: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return CheckResult{}, fmt.Errorf("decode %s: %w", path, err)
	}
	h, err := phash.Hash(img)
	if err != nil {
		return CheckResult{}, fmt.Errorf("hash %s: %w", path, err)
	}
	res := CheckResult{Path: path, Hash: h, Nearest: cat.Nearest(h, top)}
	res.Duplicate = len(res.Nearest) > 0 && res.Nearest[0].Distance <= radius
	return res, nil
}
