// Package phash computes the 64-bit DCT perceptual hash of an image and the
// Hamming distance between two hashes.
//
// The hash is the value of goimagehash's PerceptionHash: the image is resized
// to 64x64 (bilinear), converted to luma, transformed with a 2-D DCT, and the
// 8x8 lowest frequencies are compared with their median. Ingest stores it
// with every record; dedup compares it with the hashes of test images. The
// bit layout is pinned by a golden test, because stored hashes rely on it.
//
// Hash and Distance are safe for concurrent use. phash does not decode
// files and keeps no index: searching hashes within a radius is dedup's.
package phash
