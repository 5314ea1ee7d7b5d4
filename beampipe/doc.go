// Package beampipe runs the four data stages — ingest, canonicalize, dedup,
// shards — as one Apache Beam pipeline, for inputs too large for one
// machine. Prism runs it in-process (tests, one machine); Dataflow, Flink
// and Spark run the same pipeline on a cluster.
//
// The per-record work is the stage packages' own: ingest.Crawler fetches,
// validates, normalizes and hashes a record; canonicalize.Counter and
// Tally count hashtags, Counter.TopK (through Config.Vocabulary) picks the
// vocabulary and Labeler labels; dedup.Catalog.MatchRecord searches and
// verifies a record against the test sets; shards.NewRow, ShardWriter,
// NewManifest and InstallDir write the shards. This package only plans the
// work and moves records between them.
//
// Layout under the working directory (the embedded pipeline's files, no
// store):
//
//	beam/chunks/chunk-NNNNN.json  one ingest chunk's records and line errors;
//	                              its presence marks the chunk done
//	beam/chunks/chunk-NNNNN.jpg   the chunk's normalized images, end to end
//	beam/line-errors.txt          the first bad input lines, as ingest logs them
//	beam/metrics.json             the job's counters (the stats file)
//	vocab.tsv, hashtags.tsv       as canonicalize writes them
//	reports/dedup-*               as dedup writes them
//	shards/                       Arrow shards and manifest.json
//
// The working directory is a local directory that every worker and the
// launcher see at the same path, or a gs://BUCKET/PREFIX or
// s3://BUCKET/PREFIX URL, which workers on a cluster reach without a mount:
// every file above goes through package storage (workdir.go), written
// atomically either way. With a URL, the launcher keeps the hashed test sets
// in a local cache directory instead (under os.UserCacheDir). The shard
// directory (--out, default WORKDIR/shards) may be a URL as well; it is then
// written in place, its manifest deleted by the launcher first and written
// by the last step, as the shards stage does. A shard step reads its
// images from the chunk files 32 at a time, in the rows' order.
//
// Ingest is resumable by chunk: the driver splits the input into chunks of
// whole lines, a chunk's outputs are written to temporary files and renamed
// (the .json last), and a rerun re-emits finished chunks from their files
// instead of fetching them again.
//
// Politeness: every worker process shares one ingest.Crawler, so
// --per-host and --per-host-interval hold per process across all its
// bundles. A host's total rate is bounded by (worker processes) × the
// per-process limit; to bound it by the per-process limit alone, partition
// the input by host (one host's records in one input file region, so in a
// few chunks) — see README "Beyond one machine".
package beampipe
