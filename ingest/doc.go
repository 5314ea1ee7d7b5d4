// Package ingest is the first pipeline stage: it streams image + hashtag
// records from an input file (JSONL, CSV/TSV, the YFCC100M dataset file or
// Parquet, optionally gzip- or zstd-compressed), fetches each image politely
// over HTTP, validates and normalizes it (shorter side resized to a fixed
// size, re-encoded as JPEG), hashes it (SHA-256 of the downloaded bytes and
// a 64-bit perceptual hash) and writes one record with an outcome per input
// line into the working store.
//
// Readers ([JSONLReader], [CSVReader], [YFCCReader], [ParquetReader]) are
// not safe for concurrent use; one goroutine reads while the crawl fans the
// records out to workers. A [Fetcher] and the image functions are safe for
// concurrent use.
//
// The crawl is resumable: a record with a final outcome in the store is
// skipped on a rerun, a record that failed transiently (timeouts, 429, 5xx,
// truncated bodies) is retried until it has been attempted MaxAttempts
// times. Records are keyed by id, so a rerun after kill -9 never stores a
// record twice; at worst it fetches again what had not yet been flushed.
//
// JPEG is decoded and encoded through internal/jpegturbo: Go's image/jpeg
// by default; built with -tags libjpeg (cgo and Debian's
// libturbojpeg0-dev), libjpeg-turbo, which decodes large JPEGs DCT-scaled
// to the smallest size that still covers the target, about five times
// faster; jpegturbo.Codec says which codec a binary has. The perceptual
// hash (phash.Hash) and the thumbnail dedup verifies its candidates with
// (thumbnail.Make) are taken of the normalized image, the one stored, so
// they can differ a little between the two builds.
//
// Fetching refuses loopback, private, link-local and multicast peers at
// connect time (redirects included) unless AllowPrivate is set, sends no
// request through environment proxies, and treats X-Robots-Tag noai,
// noimageai, noindex and none (for all crawlers or for "weaksup") as an
// opt-out.
//
// The package does not deduplicate images (package dedup does) and does not
// interpret hashtags beyond extracting them from captions (package
// canonicalize does).
package ingest
