// Package dedup keeps evaluation test images out of the training set.
//
// It compares 64-bit DCT perceptual hashes (package phash, the value ingest
// stores with every record), lists the images of evaluation test sets
// through package datasets (ImageNet val, CUB-200-2011, Places365, any
// ImageFolder or flat folder; a Spec names the folder and its format),
// hashes each test image and its horizontal mirror, and caches those hashes
// under <workdir>/testsets keyed by a fingerprint of the files (paths,
// sizes, modification times).
//
// An Index answers Hamming-radius queries with multi-index hashing: the hash
// is cut into chunks, each chunk's buckets within a per-chunk threshold are
// probed and the candidates verified, which finds exactly what a brute-force
// scan finds (the tests compare the two on random and adversarial hashes).
// SearchBatch answers many queries at once in chunk-value order, which is
// what the stage uses. A Catalog is an Index over several test sets that
// reports each matching test image once, at its nearer orientation.
//
// The dedup stage (Run) reads every ok record's hash from the store, flags
// records within the radius of a test image and exact repeats of an earlier
// record's source bytes (same SHA-256; the first in key order is kept),
// clears the flags of an earlier run first, and writes a CSV and JSON report
// and a per-test-set summary under <workdir>/reports. It never deletes data.
//
// Mirror, a built Index and a Catalog are safe for
// concurrent use. dedup does not fetch or decode crawled images: their
// hashes are computed at ingest.
package dedup
