// Package dedup keeps evaluation test images out of the training set.
//
// It computes the 64-bit DCT perceptual hash of an image (PHash, the bit
// layout of goimagehash's PerceptionHash), reads evaluation test sets
// (ImageNet val, CUB-200-2011, Places365, any ImageFolder or flat folder),
// indexes their hashes together with the hashes of their horizontal mirrors,
// and searches every crawled image's hash within a Hamming radius with
// multi-index hashing, whose answers equal a brute-force scan. The dedup
// stage flags matching records and exact SHA-256 repeats in the working
// store (it never deletes data) and writes a report of every match.
//
// PHash, Distance and a built Index are safe for concurrent use; an Index is
// immutable once built. Test-set readers are not.
//
// dedup does not decode or fetch crawled images: their hashes are computed at
// ingest and read back from the store.
package dedup
