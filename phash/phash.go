package phash

import (
	"errors"
	"fmt"
	"image"
	"math/bits"

	"github.com/corona10/goimagehash"
)

// ErrEmptyImage is returned when an image has no pixels to hash.
var ErrEmptyImage = errors.New("image has no pixels")

// Hash returns the 64-bit DCT perceptual hash of img: the image is resized
// to 64x64 (bilinear), converted to luma, transformed with a 2-D DCT, and the
// 8x8 lowest frequencies are compared with their median. Bit 63 is the first
// coefficient, as in goimagehash's PerceptionHash, whose value this is.
func Hash(img image.Image) (uint64, error) {
	if img == nil || img.Bounds().Empty() {
		return 0, ErrEmptyImage
	}
	h, err := goimagehash.PerceptionHash(img)
	if err != nil {
		return 0, fmt.Errorf("compute perceptual hash: %w", err)
	}
	return h.GetHash(), nil
}

// Distance returns the Hamming distance between two hashes.
func Distance(a, b uint64) int { return bits.OnesCount64(a ^ b) }
