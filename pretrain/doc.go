// Package pretrain is `weaksup pretrain`: a ResNeXt (package nets) trained
// from scratch on the train split of a shard directory with the paper's
// recipe (package train's loop: c-of-K softmax, SGD, warm-up and cosine
// decay), evaluated on its val split, one process or data-parallel over
// the ranks a launcher started (package ddp). Config is its flags and the
// record of a run; Run runs it; TagAPs reports the held-out AP per
// hashtag.
package pretrain
