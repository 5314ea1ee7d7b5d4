// Package dedup keeps evaluation test images out of the training set.
//
// It matches in two steps, as near-duplicate systems do. The candidate
// search is recall-oriented: every test image is indexed under the 64-bit
// DCT perceptual hash (package phash, the value ingest stores with every
// record) of each of its Views - the image, its mirror, and 90% and 95%
// crops at the centre and the corners - and a crawled image whose hash lies
// within a wide radius of some view is a candidate. The verification is
// precise: the candidate's thumbnail (package thumbnail, a small grey and
// colour copy ingest stores beside the hash) must correlate with the
// thumbnail of that view, cut from the test image's reference thumbnail,
// after a band-pass filter, and share its colours (verify.go). Unrelated
// photographs that share a perceptual hash (skies, sand, water) fail it;
// crops, rotations, re-encodings and level changes pass.
//
// It lists the images of evaluation test sets through package datasets
// (ImageNet val, CUB-200-2011, Places365, any ImageFolder or flat folder; a
// Spec names the folder and its layout). A run lists the configured test
// sets once (Config.List): the Listing gives both the stage's input
// fingerprint (paths, sizes, modification times of the files) and the
// catalog, and each image's Signature (view hashes and reference
// thumbnail) is cached under <workdir>/testsets keyed by that fingerprint.
//
// An Index answers Hamming-radius queries with multi-index hashing: the hash
// is cut into chunks, each chunk's buckets within a per-chunk threshold are
// probed and the candidates verified, which finds exactly what a brute-force
// scan finds (the tests compare the two on random and adversarial hashes).
// SearchBatch answers many queries at once in chunk-value order, which is
// what the stage uses. A Catalog is an Index over every view of several test
// sets that groups the hits of each test image into a Candidate, and
// Verify decides one.
//
// The dedup stage (Run) reads every ok record's hash from the store,
// searches them all, reads the thumbnails of the records with candidates
// (decoding the stored image of a record crawled before thumbnails were
// stored), flags records verified as copies of a test image and exact
// repeats of an earlier record's source bytes (same SHA-256; the first in
// key order is kept), clears the flags of an earlier run first, and writes
// a CSV and JSON report and a per-test-set summary under <workdir>/reports:
// for each match, the view and the test that decided it and the score. It
// never deletes data.
//
// Mirror, Sign, a built Index and a Catalog are safe for concurrent use.
// dedup does not fetch crawled images, and decodes them only for records
// stored without a thumbnail.
package dedup
