// Package demo generates the demo world of weaksup: a deterministic,
// self-contained stand-in for a public image + hashtag crawl, and a loopback
// HTTP server that serves its images with realistic failures.
//
// Generate draws a world into a directory:
//
//   - concepts: WordNet 3.0 noun synsets of concrete things (dogs, birds,
//     fruit, tools, buildings ...) from an embedded table (concepts.tsv),
//     each with a latent visual style. Concepts of one family share a part
//     layout; concepts under the same hypernym share a palette
//     neighbourhood and lean to the same texture.
//   - images/: crawl images drawn procedurally: each image samples pose,
//     scale, position, count, background, clutter, occlusion, a hue cast
//     of its lighting, colour jitter, noise and JPEG quality, so a concept
//     is learnable but never one template, and invariances are learned
//     best from many images.
//   - truth.jsonl: per crawl record what it shows and how it is tagged.
//     Concept frequencies are Zipf distributed; tags use synonyms and
//     surface variants (brownbear, BrownBears, brown_bear, ursusarctos),
//     broad family tags, non-visual tags (love, instagood), captions with
//     hashtags, wrong tags at a set rate, and reposts (identical bytes).
//   - target/: an ImageNet-layout task (train/<wnid>/*.JPEG, val/<wnid>/...)
//     over whole families of the concepts (siblings told apart by detail,
//     fine-grained as CUB's birds are), with few labelled images per class,
//     drawn with different seeds than the crawl.
//   - duplicates.jsonl: near-duplicates of target val images (resized,
//     re-encoded, cropped, brightened, mirrored) planted in the crawl.
//   - crawl.jsonl: the records the ingest stage reads ({"id","url","tags"}
//     or {"id","url","caption"}); written by World.WriteCrawl once the
//     server's URL is known, or by Generate when WorldConfig.BaseURL is set.
//   - world.json: the manifest (World), read back with Load.
//
// The same WorldConfig gives the same bytes on the same architecture (the
// compiler may fuse floating-point multiply-adds on some, e.g. arm64).
// Generate draws on all CPUs.
//
// Server answers GET /img/<id>.jpg on 127.0.0.1. Each URL's behaviour
// (ok, 404, slow, 500-then-ok, 429 with Retry-After, truncated or garbled
// JPEG, an HTML page) is fixed by the server seed and the id; Server.Mode
// tells which. A Server is safe for concurrent use.
//
// ContactSheet renders a PNG grid of a few concepts for reports.
//
// The package does not crawl, canonicalize or train; those are the
// pipeline's stages, and the demo world is only their input.
package demo
