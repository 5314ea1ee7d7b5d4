// Package shards is the training set's file format: Arrow IPC shard files
// and their manifest. It holds the schema, the shard writer and reader,
// random access to a split's rows (ShardSet), verification and inspection,
// and the `shards` pipeline stage that writes them from the working store.
//
// # Files
//
// A shard directory holds shard-NNNNN.arrow (training split),
// val-NNNNN.arrow (held-out split) and manifest.json. Each shard is an Arrow
// IPC file (random access) with the columns key utf8, image binary (JPEG),
// width/height int32, labels list<int32>, tags list<utf8>, raw_tags
// list<utf8>, url utf8, phash uint64, sha256 fixed_size_binary[32], cut into
// record batches of at most 1024 rows or 8 MiB. Buffers are zstd-compressed
// where that saves at least 10% (Arrow IPC compresses each buffer on its own
// and marks incompressible ones raw), so offsets, labels, tags and URLs are
// compressed and JPEG bytes are stored raw. The manifest lists every shard
// with rows, bytes and SHA-256, the per-split tag counts, the vocabulary
// hash and the stage config. The stage builds a new directory beside the old
// one and swaps it in with renames, so readers never see a mix of runs.
//
// # Reading
//
// OpenShard maps one file and gives its rows (Key, Image, Labels, Row);
// OpenShardSet numbers the rows of one split across its shards for random
// access and keeps a bounded number of files mapped. Batches for training,
// with order, sampling, augmentation and prefetching, are package loader's:
// loader.Open reads a shard directory through a ShardSet.
//
// # Locations
//
// A shard directory may be a gs://BUCKET/PREFIX or s3://BUCKET/PREFIX URL
// wherever a directory string is taken (package storage reaches it, with
// the endpoint and credentials of the environment); the ...In functions
// take a storage.Dir opened with other options, such as a Cache. A shard
// written to a URL is written locally and uploaded on Close, so readers
// see whole files only; the stage writes a URL in place, deleting the old
// manifest first and writing the new one last, and removes the shards of
// an earlier run that it does not list.
//
// OpenShard, Verify and Inspect map a shard at a URL from a local copy (the
// Cache's, or a temporary one). A ShardSet at a URL (the loader's) reads
// its shards in place instead (stream.go): a shard's footer, the metadata
// of its record batches and every column but the JPEG bytes are fetched by
// ranged reads into an anonymous mapping when it is first used, and each
// row's JPEG when it is read, or ahead of time by ShardSet.Prefetch (up to
// 32 requests at once, adjacent rows in one). A reader of a share of the
// rows — a data-parallel rank — so fetches about that share of the image
// bytes, plus the index columns of every shard (a few percent). A record
// batch whose JPEG column was stored compressed (small JPEGs, whose
// identical header tables zstd shrinks by more than 10%: thumbnails of a
// few dozen pixels) cannot be read row by row and is fetched whole. Through
// a Cache every read is a block read, so a host fetches each byte once.
//
// Concurrency: Shard and ShardSet are safe for concurrent use; ShardWriter
// is not.
package shards
