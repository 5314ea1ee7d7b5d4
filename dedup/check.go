package dedup

import (
	"cmp"
	"fmt"
	"image"
	"os"
	"slices"

	"weaksup/phash"
	"weaksup/thumbnail"
)

// CheckResult is what the matcher says of one image.
type CheckResult struct {
	Path       string       `json:"path"`
	Hash       uint64       `json:"phash"`
	Candidates []CheckMatch `json:"candidates"` // test images with a view within the radius, copies first, best first
	Nearest    []Match      `json:"nearest"`    // the nearest other test images by hash (no verification)
	Duplicate  bool         `json:"duplicate"`  // some candidate verified
}

// CheckMatch is one verified candidate.
type CheckMatch struct {
	Match
	Copy bool `json:"copy"` // the verification accepted it
}

// CheckFile decodes an image file and runs the stage's matcher on it: every
// test image with a view within cfg.Radius is verified as the stage
// verifies it, and the nearest other test images fill the list up to top
// entries.
func CheckFile(cat *Catalog, path string, top int, cfg Config) (CheckResult, error) {
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
	res := CheckResult{Path: path, Hash: h, Candidates: []CheckMatch{}, Nearest: []Match{}}
	q := NewQuery(thumbnail.Make(img))
	_, cands := cat.Search(h, cfg.Radius, nil, nil)
	seen := map[[2]int]bool{}
	for _, c := range cands {
		m, ok := cat.Verify(c, q, cfg)
		res.Candidates = append(res.Candidates, CheckMatch{m, ok})
		res.Duplicate = res.Duplicate || ok
		seen[[2]int{c.Set, c.Image}] = true
	}
	slices.SortStableFunc(res.Candidates, func(a, b CheckMatch) int {
		if a.Copy != b.Copy {
			if a.Copy {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Score, a.Score), a.Distance-b.Distance)
	})
	for _, c := range cat.Nearest(h, top) {
		if len(res.Candidates)+len(res.Nearest) >= top {
			break
		}
		if seen[[2]int{c.Set, c.Image}] {
			continue
		}
		ts, v := cat.Sets[c.Set], Views[c.Views[0].View]
		res.Nearest = append(res.Nearest, Match{Set: ts.Spec.Name, Image: ts.Images[c.Image], View: v.Name,
			Distance: c.Views[0].Distance, Mirror: v.Mirror})
	}
	return res, nil
}
