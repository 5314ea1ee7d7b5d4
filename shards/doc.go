// Package shards writes the training set as Arrow IPC shard files and reads
// it back for training: the schema, the shard writer and reader, the
// manifest, the `shards` pipeline stage, and the training data loader.
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
// # Loader
//
// The training loop reads batches like this:
//
//	l, err := shards.OpenLoader(dir, shards.LoaderConfig{
//		Split: shards.SplitTrain, Batch: 64, ImageSize: 64, Train: true,
//		Seed: 1, Rank: rank, World: world, Sampling: shards.SamplingSqrt,
//		Targets: shards.TargetsCofK, DropLast: true, Resume: savedPos, // nil to start
//	})
//	defer l.Close()
//	for {
//		b, err := l.Next(ctx) // io.EOF after cfg.Epochs epochs (0 = never)
//		if err != nil { ... }
//		// b.Images: b.N×3×64×64 float32, NCHW, normalized
//		// b.Targets: b.N×K float32 (c-of-K rows sum to 1)
//		// b.Labels, b.Keys, b.Epoch, b.Last (end of this rank's epoch)
//		step(b)
//		b.Release() // before asking for more than Prefetch batches ahead
//		pos := l.Position() // JSON; store in the checkpoint
//	}
//
// Order. Each epoch, the shard order is shuffled and items pass through a
// shuffle buffer (LoaderConfig.ShuffleBuffer); the resulting global sequence
// is a pure function of (Seed, epoch) over item indices. Rank r of World
// takes global positions r, r+World, r+2·World, … so the ranks partition
// every epoch; with DropLast every rank yields the same number of full
// batches (what data-parallel training needs). Square-root sampling instead
// draws Len items per epoch with replacement, item i with weight
// Σ_{t∈labels(i)} 1/sqrt(count(t)), so that a tag drawn from the sampled
// images has probability ∝ sqrt(count(t)); the drawn items then pass
// through the same shard order and shuffle buffer, so reads stay local. Label noise (NoiseP) and the
// augmentation draw from a generator seeded by (Seed, epoch, global
// position), so a batch does not depend on worker scheduling and a loader
// resumed from Position() yields exactly the batches the first one would
// have.
//
// Fine-tuning. NewLoader takes any Source. FileSource wraps a list of
// (image file, class) pairs, the layout of ImageNet/CUB/Places folders, and
// gets the same decoding, augmentation, batching and resume; use
// TargetsNone and Batch.Labels for class ids. Transform.Apply is the
// decode-augment-normalize step on its own.
//
// Decoding. The default build decodes with the standard library's
// image/jpeg (about 1 ms for a 256 px JPEG). Built with -tags libjpeg (and
// cgo, linking libturbojpeg), JPEGs are decoded by libjpeg-turbo straight to
// Y/Cb/Cr planes and scaled by 1/2, 1/4 or 1/8 in the DCT when the crop still
// keeps at least ImageSize pixels; this is what reaches 2,000 images/s on two
// cores for 64 px training. Both builds take the same crops and flips for the
// same seed; pixel values differ slightly between them.
//
// Concurrency: a Loader's Next and Position are for one goroutine; Close may
// be called from another. Shard, ShardSet and Transform are safe for
// concurrent use; ShardWriter is not.
package shards
