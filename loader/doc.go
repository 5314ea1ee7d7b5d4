// Package loader turns any random-access Source of labelled images into
// batches for training and evaluation: a seeded order that resumes
// exactly, a split across data-parallel ranks, square-root resampling and
// label noise, decoding and augmentation, and prefetching on worker
// goroutines.
//
// The training loop reads batches like this:
//
//	l, err := loader.Open(dir, loader.Config{
//		Split: shards.SplitTrain, Batch: 64, ImageSize: 64, Train: true,
//		Seed: 1, Rank: rank, World: world, Sampling: loader.SamplingSqrt,
//		Targets: loader.TargetsCofK, DropLast: true, Resume: savedPos, // nil to start
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
// # Sources
//
// New takes any Source. Open wraps one split of a shard directory
// (ShardSource over a shards.ShardSet, optionally cut to a nested Subset);
// SplitSource wraps one split of a dataset of package datasets (ImageNet,
// CUB, Places365, image folders) and gets the same decoding, augmentation,
// batching and resume; use TargetsNone and Batch.Labels for class ids. An
// Example carries encoded image bytes, or decoded Pixels for sources that
// hold images in memory.
//
// Open and OpenIn take a shard directory at a gs:// or s3:// URL too (OpenIn
// with a storage.Dir opened with a Cache or an endpoint). Its shards are
// read in place (package shards): as soon as a batch is planned, its
// items' JPEGs are fetched by ranged reads, many at once (a Prefetcher
// source), so the decode workers seldom wait on the network and a rank
// fetches its share of the image bytes, not whole shards. The read-ahead
// is bounded by the batch buffers (Prefetch+2 batches). Through a Cache the
// ranks of a machine fetch each byte once between them.
//
// # Order
//
// Each epoch, the block (shard) order is shuffled and items pass through
// a shuffle buffer (Config.ShuffleBuffer); the resulting global sequence
// is a pure function of (Seed, epoch) over item indices. Rank r of World
// takes global positions r, r+World, r+2·World, … so the ranks partition
// every epoch; with DropLast every rank yields the same number of full
// batches (what data-parallel training needs). Square-root sampling
// instead draws Len items per epoch with replacement, item i with weight
// Σ_{t∈labels(i)} 1/sqrt(count(t)), so that a tag drawn from the sampled
// images has probability ∝ sqrt(count(t)); the drawn items then pass
// through the same block order and shuffle buffer, so reads stay local.
// Label noise (NoiseP) and the augmentation draw from a generator seeded
// by (Seed, epoch, global position), so a batch does not depend on worker
// scheduling and a loader resumed from Position() yields exactly the
// batches the first one would have.
//
// # Decoding
//
// Transform is the decode-augment-normalize step, also usable on its own
// (Transform.Apply). Its Crop mode is the ImageNet recipe by default
// (random-resized crop; resize and center crop) or CropPadded, the CIFAR
// recipe of He et al. (NewCIFARTransform: 4 pixels of zero padding, a
// random 32×32 crop and a flip; the image itself in evaluation), which
// reads pixels without resampling (a datasets.PlanarRGB straight from its
// planes). Mean and Std normalize per channel: ImageNet's by default,
// CIFAR10Mean/Std and CIFAR100Mean/Std, or ChannelStats of a dataset. JPEGs go through internal/jpegturbo: Go's image/jpeg
// in the default build (about 1 ms for a 256 px JPEG), libjpeg-turbo with
// -tags libjpeg, which decodes straight to Y/Cb/Cr planes scaled by N/8 in
// the DCT when the crop still keeps at least ImageSize pixels; this is what
// reaches 2,000 images/s on two cores for 64 px training. Both builds take
// the same crops and flips for the same seed; pixel values differ slightly
// between them. Other formats (PNG, GIF, BMP, TIFF, WebP) are decoded with
// image.Decode.
//
// Concurrency: a Loader's Next and Position are for one goroutine; Close
// may be called from another. Transform, ShardSource, SplitSource and
// Subset are safe for concurrent use.
package loader
